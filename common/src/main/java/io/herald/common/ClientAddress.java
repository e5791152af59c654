package io.herald.common;

import io.netty.util.NetUtil;
import io.vertx.core.MultiMap;

import java.util.ArrayList;
import java.util.List;

/**
 * The address of the client behind reverse proxies ({@code gateway.trustedProxies},
 * {@code notifier.trustedProxies}), for the per-address limits and the logs.
 *
 * <p>Only when the connection's peer is one of the trusted proxies (addresses and CIDR ranges,
 * as in {@link AddressAllowlist}) are the forwarding headers read; from any other peer they are
 * ignored, since anyone can send them. {@code Forwarded} (RFC 7239, its {@code for=} parameters)
 * is read when present, else {@code X-Forwarded-For}; all lines of the header count, in order.
 * The list is walked from the right (the hop nearest to us): each trusted proxy is skipped, and
 * the first address that is not one is the client. A value that is not an IP address literal
 * ({@code unknown}, an obfuscated {@code _name}, garbage) stops the walk: the client is then the
 * last trusted hop seen, as nothing to its left can be believed. With an empty list nothing is
 * trusted and the peer is the client. At most {@value #MAX_HOPS} hops are walked. Immutable.
 */
public final class ClientAddress {

  /** Trusts no proxy: the client is always the peer. */
  public static final ClientAddress DIRECT = new ClientAddress(AddressAllowlist.ANY, true);
  /** Most entries of a forwarding header walked from the right. */
  public static final int MAX_HOPS = 32;

  private final AddressAllowlist proxies;
  private final boolean none;

  private ClientAddress(AddressAllowlist proxies, boolean none) {
    this.proxies = proxies;
    this.none = none;
  }

  /** Parses the trusted proxies; {@link IllegalArgumentException} names the first bad entry. */
  public static ClientAddress trusting(List<String> trustedProxies) {
    return trustedProxies.isEmpty() ? DIRECT : new ClientAddress(AddressAllowlist.parse(trustedProxies), false);
  }

  /** True when {@code ip} is a trusted proxy. */
  public boolean trusts(String ip) {
    return !none && ip != null && proxies.allows(ip);
  }

  /** The client address of a request from {@code peer} (an IP literal, or null) with these headers. */
  public String resolve(String peer, MultiMap headers) {
    if (!trusts(peer) || headers == null) {
      return peer;
    }
    return resolve(peer, headers.getAll("X-Forwarded-For"), headers.getAll("Forwarded"));
  }

  /**
   * The client address of a request from {@code peer}, given every line of its
   * {@code X-Forwarded-For} and {@code Forwarded} headers (empty lists when absent).
   */
  public String resolve(String peer, List<String> xForwardedFor, List<String> forwarded) {
    if (!trusts(peer)) {
      return peer;
    }
    List<String> hops = forwarded != null && !forwarded.isEmpty() ? forwardedFor(forwarded) : split(xForwardedFor);
    String client = peer;
    int walked = 0;
    for (int i = hops.size() - 1; i >= 0 && walked < MAX_HOPS; i--, walked++) {
      String ip = literal(hops.get(i));
      if (ip == null) {
        return client;
      }
      client = ip;
      if (!proxies.allows(ip)) {
        return ip;
      }
    }
    return client;
  }

  private static List<String> split(List<String> lines) {
    List<String> out = new ArrayList<>();
    if (lines != null) {
      for (String line : lines) {
        for (String part : line.split(",", -1)) {
          out.add(part.trim());
        }
      }
    }
    return out;
  }

  /** The {@code for=} values of RFC 7239 elements, in order; an element without one is a hop we know nothing of. */
  private static List<String> forwardedFor(List<String> lines) {
    List<String> out = new ArrayList<>();
    for (String element : split(lines)) {
      String value = "";
      for (String pair : element.split(";", -1)) {
        int eq = pair.indexOf('=');
        if (eq > 0 && pair.substring(0, eq).trim().equalsIgnoreCase("for")) {
          value = pair.substring(eq + 1).trim();
        }
      }
      if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1);
      }
      out.add(value);
    }
    return out;
  }

  /**
   * The address of one hop as a normalised IP literal, or null when it is none: IPv4 with an
   * optional port, IPv6 bare or in brackets with an optional port; never a host name (no DNS).
   */
  static String literal(String hop) {
    String s = hop.trim();
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || (close + 1 < s.length() && !s.substring(close + 1).matches(":[0-9]{1,5}"))) {
        return null;
      }
      s = s.substring(1, close);
      if (s.indexOf(':') < 0) {
        return null;
      }
    } else if (s.indexOf(':') == s.lastIndexOf(':') && s.indexOf(':') > 0) {
      if (!s.substring(s.indexOf(':')).matches(":[0-9]{1,5}")) {
        return null;
      }
      s = s.substring(0, s.indexOf(':')); // IPv4:port
    }
    if (s.isEmpty() || s.indexOf('%') >= 0) {
      return null;
    }
    byte[] raw = NetUtil.createByteArrayFromIpAddressString(s);
    if (raw == null) {
      return null;
    }
    if (raw.length == 16 && isMapped(raw)) {
      raw = java.util.Arrays.copyOfRange(raw, 12, 16);
    }
    try {
      return raw.length == 4 ? NetUtil.bytesToIpAddress(raw) : NetUtil.toAddressString(java.net.InetAddress.getByAddress(raw));
    } catch (java.net.UnknownHostException e) {
      return null;
    }
  }

  private static boolean isMapped(byte[] raw) {
    for (int i = 0; i < 10; i++) {
      if (raw[i] != 0) {
        return false;
      }
    }
    return raw[10] == (byte) 0xff && raw[11] == (byte) 0xff;
  }
}
