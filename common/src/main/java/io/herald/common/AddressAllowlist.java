package io.herald.common;

import io.netty.util.NetUtil;

import java.util.ArrayList;
import java.util.List;

/**
 * A list of client addresses ({@code notifier.trustedProducers}, {@code trustedProxies}): IPv4 and IPv6
 * addresses ({@code 127.0.0.1}, {@code ::1}) and CIDR ranges ({@code 10.0.0.0/8},
 * {@code fd00::/8}). An empty list allows everyone. IPv4-mapped IPv6 addresses
 * ({@code ::ffff:10.1.2.3}) are treated as the IPv4 address they carry, on both sides.
 * Literals only: a host name is rejected (it would need DNS at every request). Immutable.
 */
public final class AddressAllowlist {

  /** Allows every address. */
  public static final AddressAllowlist ANY = new AddressAllowlist(List.of());

  private record Range(byte[] network, int prefix) {

    boolean contains(byte[] address) {
      if (address.length != network.length) {
        return false;
      }
      int full = prefix / 8;
      for (int i = 0; i < full; i++) {
        if (address[i] != network[i]) {
          return false;
        }
      }
      int rest = prefix % 8;
      if (rest == 0) {
        return true;
      }
      int mask = (0xff << (8 - rest)) & 0xff;
      return (address[full] & mask) == (network[full] & mask);
    }
  }

  private final List<Range> ranges;

  private AddressAllowlist(List<Range> ranges) {
    this.ranges = List.copyOf(ranges);
  }

  /**
   * Parses the entries; {@link IllegalArgumentException} names the first bad one: not an IP
   * literal, a prefix out of range, or host bits set after the prefix ({@code 10.0.0.1/8}).
   */
  public static AddressAllowlist parse(List<String> entries) {
    List<Range> out = new ArrayList<>(entries.size());
    for (String entry : entries) {
      out.add(range(entry.trim()));
    }
    return new AddressAllowlist(out);
  }

  /** True when the list is empty (everyone allowed). */
  public boolean allowsAll() {
    return ranges.isEmpty();
  }

  /** True when {@code ip} (an address literal, as the socket reports it) is allowed. */
  public boolean allows(String ip) {
    if (ranges.isEmpty()) {
      return true;
    }
    byte[] address = ip == null ? null : bytes(ip);
    if (address == null) {
      return false; // not an IP peer (a domain socket): never on an allowlist of addresses
    }
    for (Range r : ranges) {
      if (r.contains(address)) {
        return true;
      }
    }
    return false;
  }

  private static Range range(String entry) {
    int slash = entry.indexOf('/');
    String literal = slash < 0 ? entry : entry.substring(0, slash);
    byte[] raw = literal.indexOf('%') >= 0 ? null : NetUtil.createByteArrayFromIpAddressString(literal);
    if (raw == null) {
      throw new IllegalArgumentException("\"" + entry + "\" is not an IP address or CIDR range (e.g. 10.0.0.0/8, 127.0.0.1, fd00::/8, ::1)");
    }
    int prefix = raw.length * 8;
    if (slash >= 0) {
      String p = entry.substring(slash + 1);
      if (!p.matches("[0-9]{1,3}") || Integer.parseInt(p) > raw.length * 8) {
        throw new IllegalArgumentException("\"" + entry + "\": the prefix length must be 0 to " + raw.length * 8);
      }
      prefix = Integer.parseInt(p);
    }
    if (raw.length == 16 && isMapped(raw) && prefix >= 96) {
      raw = java.util.Arrays.copyOfRange(raw, 12, 16);
      prefix -= 96;
    }
    for (int bit = prefix; bit < raw.length * 8; bit++) {
      if ((raw[bit / 8] & (0x80 >> (bit % 8))) != 0) {
        throw new IllegalArgumentException("\"" + entry + "\": address bits are set after the /" + (slash < 0 ? prefix : entry.substring(slash + 1))
          + " prefix; write the network address");
      }
    }
    return new Range(raw, prefix);
  }

  private static byte[] bytes(String ip) {
    String literal = ip;
    int zone = literal.indexOf('%');
    if (zone >= 0) {
      literal = literal.substring(0, zone);
    }
    if (literal.startsWith("[") && literal.endsWith("]")) {
      literal = literal.substring(1, literal.length() - 1);
    }
    byte[] raw = NetUtil.createByteArrayFromIpAddressString(literal);
    if (raw != null && raw.length == 16 && isMapped(raw)) {
      return java.util.Arrays.copyOfRange(raw, 12, 16);
    }
    return raw;
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
