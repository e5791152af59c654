package io.herald.gateway.admission;

import io.herald.common.ErrorCode;
import io.herald.common.HeraldException;
import io.herald.gateway.Connection;
import io.herald.gateway.GatewayOptions;
import io.vertx.core.shareddata.Shareable;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Connection admission of one gateway process: open streams per node
 * ({@code gateway.maxConnections}), per client address ({@code gateway.maxConnectionsPerIp})
 * and per JWT subject (the {@code maxConnectionsPerUser} of the token's tier), connection
 * attempts per address in a sliding minute ({@code gateway.connectAttemptsPerIpPerMinute}) and
 * per user (the tier's {@code connectAttemptsPerMinute}, a bucket refilled over a minute).
 * Addresses in {@code gateway.limitExemptAddresses} skip the two per-address limits (and are not
 * tracked); everything else still applies to them.
 *
 * <p>One instance is shared by every gateway verticle instance of a deployment (they run on
 * different event loops), so all state is in concurrent structures and every per-key update is
 * atomic ({@link ConcurrentHashMap#compute}). All limits are per process, not cluster-wide.
 *
 * <p>Memory is bounded: an address is tracked while it holds a stream or made an attempt in the
 * last minute, and at most {@link #MAX_TRACKED_IPS} addresses are tracked; idle ones are swept
 * every {@link #SWEEP_MILLIS}. When the table is full of active addresses a new one is refused
 * ({@code over_capacity}) rather than let through unaccounted. IPv6 clients are counted per /64,
 * the block one subscriber line usually owns. Users are tracked while they hold a stream, and
 * for the attempt rate while their bucket is not full again (at most {@link #MAX_TRACKED_USERS}).
 */
public final class ConnectionLimiter implements Shareable {

  /** Most client addresses (IPv4, or IPv6 /64) tracked at once. */
  static final int MAX_TRACKED_IPS = 100_000;
  /** How often idle addresses are dropped from the table, ms. */
  static final long SWEEP_MILLIS = 10_000;
  private static final int WINDOW_SECONDS = 60;
  /** Most users whose connection attempts are tracked at once (only those of a tier with an attempt rate). */
  static final int MAX_TRACKED_USERS = 100_000;

  private final int maxConnections;
  private final int maxPerIp;
  private final int attemptsPerMinute;
  private final int maxPerUser;
  private final GatewayOptions options;
  /** Per user: when the attempt bucket is full again, epoch ms (GCRA's theoretical arrival time). */
  private final ConcurrentHashMap<String, double[]> userAttempts = new ConcurrentHashMap<>();
  private final AtomicInteger total = new AtomicInteger();
  private final ConcurrentHashMap<String, IpState> ips = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, AtomicInteger> users = new ConcurrentHashMap<>();
  private final AtomicLong lastSweep = new AtomicLong(System.currentTimeMillis());
  private volatile java.util.function.Consumer<String> userChange = s -> { };

  public ConnectionLimiter(GatewayOptions options) {
    this.maxConnections = options.maxConnections();
    this.maxPerIp = options.maxConnectionsPerIp();
    this.attemptsPerMinute = options.connectAttemptsPerIpPerMinute();
    this.maxPerUser = options.maxConnectionsPerUser();
    this.options = options;
  }

  /**
   * Admits one connection attempt from {@code remoteHost}: a {@link Permit} to release when the
   * response ends, or a {@link Refusal} (503 {@code over_capacity} or 429 {@code rate_limited})
   * carrying the {@code Retry-After} seconds. Every attempt counts toward the attempt rate,
   * refused ones too.
   */
  public Permit admit(String remoteHost, long nowMillis) {
    sweepIfDue(nowMillis);
    if (options.limitExempt(remoteHost)) {
      if (total.incrementAndGet() > maxConnections) {
        total.decrementAndGet();
        throw new Refusal(ErrorCode.OVER_CAPACITY, "this gateway holds as many streams as it may; try again or elsewhere", 5);
      }
      exemptAdmitted();
      return new Permit(null);
    }
    String ip = ipKey(remoteHost);
    if (!ips.containsKey(ip) && ips.size() >= MAX_TRACKED_IPS) {
      throw new Refusal(ErrorCode.OVER_CAPACITY, "too many clients are connecting; try again later", 10);
    }
    long nowSecond = nowMillis / 1000;
    int[] verdict = new int[1]; // 0 admitted, else Retry-After seconds; the sign tells which limit
    ips.compute(ip, (k, s) -> {
      IpState st = s == null ? new IpState() : s;
      int wait = st.attempt(nowSecond, attemptsPerMinute);
      if (wait > 0) {
        verdict[0] = wait;
      } else if (st.open >= maxPerIp) {
        verdict[0] = -5;
      } else {
        st.open++;
      }
      return st;
    });
    if (verdict[0] > 0) {
      throw new Refusal(ErrorCode.RATE_LIMITED, "too many connection attempts from this address; retry later", verdict[0]);
    }
    if (verdict[0] < 0) {
      throw new Refusal(ErrorCode.RATE_LIMITED, "at most " + maxPerIp + " streams per client address", -verdict[0]);
    }
    if (total.incrementAndGet() > maxConnections) {
      total.decrementAndGet();
      releaseIp(ip);
      throw new Refusal(ErrorCode.OVER_CAPACITY, "this gateway holds as many streams as it may; try again or elsewhere", 5);
    }
    return new Permit(ip);
  }

  /** {@link #admitUser(Permit, String, SubscriberTiers.Tier, long)} with the default tier. */
  public void admitUser(Permit permit, String subject) {
    admitUser(permit, subject, options.tiers().defaults(), System.currentTimeMillis());
  }

  /**
   * Also counts the stream against its JWT subject with the limits of its {@code tier}: the
   * attempt rate per user first (a refused attempt takes nothing from it), then the streams per
   * user. On refusal the permit is left for the caller to release.
   */
  public void admitUser(Permit permit, String subject, SubscriberTiers.Tier tier, long nowMillis) {
    if (subject == null) {
      return;
    }
    int wait = tier.connectAttemptsPerMinute() > 0 ? userAttempt(subject, tier.connectAttemptsPerMinute(), nowMillis) : 0;
    if (wait > 0) {
      SubscriberTiers.refused(tier, "connect_attempts");
      throw new Refusal(ErrorCode.RATE_LIMITED, "more than " + tier.connectAttemptsPerMinute()
        + " connection attempts per minute for this user" + tier.suffix() + "; retry later", wait);
    }
    int max = tier.maxConnectionsPerUser();
    boolean[] ok = new boolean[1];
    users.compute(subject, (k, n) -> {
      AtomicInteger c = n == null ? new AtomicInteger() : n;
      if (c.get() < max) {
        c.incrementAndGet();
        ok[0] = true;
      }
      return c.get() == 0 ? null : c;
    });
    if (!ok[0]) {
      SubscriberTiers.refused(tier, "streams_per_user");
      throw new Refusal(ErrorCode.RATE_LIMITED, "at most " + max + " streams per user" + tier.suffix(), 5);
    }
    permit.user = subject;
    userChange.accept(subject);
  }

  /**
   * One attempt of {@code subject} against {@code perMinute} (GCRA: a bucket of {@code perMinute}
   * attempts refilled over a minute): 0 when taken, else the seconds until one is there.
   */
  private int userAttempt(String subject, int perMinute, long nowMillis) {
    if (!userAttempts.containsKey(subject) && userAttempts.size() >= MAX_TRACKED_USERS) {
      throw new Refusal(ErrorCode.OVER_CAPACITY, "too many clients are connecting; try again later", 10);
    }
    double interval = WINDOW_SECONDS * 1000.0 / perMinute;
    int[] wait = new int[1];
    userAttempts.compute(subject, (k, s) -> {
      double[] full = s == null ? new double[] {nowMillis} : s;
      double next = Math.max(full[0], nowMillis) + interval;
      double over = next - nowMillis - WINDOW_SECONDS * 1000.0;
      if (over > 0) {
        wait[0] = (int) Math.max(1, Math.ceil(over / 1000.0));
      } else {
        full[0] = next;
      }
      return full;
    });
    return wait[0];
  }

  /** Counts an attempt from an exempt address let past the per-address limits: {@code herald_limit_exempt_connections_total}. */
  private static void exemptAdmitted() {
    io.micrometer.core.instrument.Counter.builder("herald_limit_exempt_connections")
      .description("Connection attempts from gateway.limitExemptAddresses let past the per-address limits")
      .register(io.herald.common.admin.HeraldMetrics.get().registry()).increment();
  }

  /** Users whose connection attempts are tracked now (tests). */
  public int trackedUsers() {
    return userAttempts.size();
  }

  /** Called with a subject whenever its count of streams in this process changes. */
  public void onUserChange(java.util.function.Consumer<String> listener) {
    this.userChange = listener;
  }

  /** Streams {@code subject} holds in this process. */
  public int userCount(String subject) {
    AtomicInteger c = users.get(subject);
    return c == null ? 0 : c.get();
  }

  /** Streams per subject in this process (a copy). */
  public java.util.Map<String, Integer> userCounts() {
    java.util.Map<String, Integer> out = new java.util.HashMap<>();
    users.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  /** Streams per user of the default tier. */
  public int maxPerUser() {
    return maxPerUser;
  }

  public int total() {
    return total.get();
  }

  public int trackedIps() {
    return ips.size();
  }

  public int openFor(String remoteHost) {
    IpState s = ips.get(ipKey(remoteHost));
    return s == null ? 0 : s.open;
  }

  private void releaseIp(String ip) {
    if (ip == null) {
      return; // an exempt address: never counted
    }
    ips.computeIfPresent(ip, (k, s) -> {
      s.open = Math.max(0, s.open - 1);
      return s;
    });
  }

  private void releaseUser(String subject) {
    users.computeIfPresent(subject, (k, c) -> c.decrementAndGet() <= 0 ? null : c);
    userChange.accept(subject);
  }

  private void sweepIfDue(long nowMillis) {
    long last = lastSweep.get();
    if (nowMillis - last < SWEEP_MILLIS || !lastSweep.compareAndSet(last, nowMillis)) {
      return;
    }
    long nowSecond = nowMillis / 1000;
    for (String ip : ips.keySet()) {
      ips.computeIfPresent(ip, (k, s) -> s.idle(nowSecond) ? null : s);
    }
    for (String user : userAttempts.keySet()) {
      userAttempts.computeIfPresent(user, (k, s) -> s[0] <= nowMillis ? null : s);
    }
  }

  /** The table key of an address: IPv4 as is, IPv6 by its /64. */
  public static String ipKey(String host) {
    if (host == null) {
      return "?";
    }
    if (host.indexOf(':') < 0) {
      return host;
    }
    try {
      byte[] a = InetAddress.getByName(host).getAddress(); // a literal: no lookup
      if (a.length != 16) {
        return InetAddress.getByAddress(a).getHostAddress();
      }
      for (int i = 8; i < 16; i++) {
        a[i] = 0;
      }
      return InetAddress.getByAddress(a).getHostAddress() + "/64";
    } catch (UnknownHostException e) {
      return host;
    }
  }

  /** Open streams and attempts in the last minute (one-second buckets) of one address. Guarded by the map's compute. */
  private static final class IpState {
    int open;
    final int[] buckets = new int[WINDOW_SECONDS];
    final long[] bucketSecond = new long[WINDOW_SECONDS];

    /** Records an attempt; 0 when within the rate, else the seconds until it would be. */
    public int attempt(long nowSecond, int limit) {
      int slot = (int) (nowSecond % WINDOW_SECONDS);
      if (bucketSecond[slot] != nowSecond) {
        bucketSecond[slot] = nowSecond;
        buckets[slot] = 0;
      }
      buckets[slot]++;
      int count = 0;
      for (int i = 0; i < WINDOW_SECONDS; i++) {
        if (nowSecond - bucketSecond[i] < WINDOW_SECONDS) {
          count += buckets[i];
        }
      }
      if (count <= limit) {
        return 0;
      }
      // Wait until enough of the oldest seconds leave the window.
      int excess = count - limit;
      for (int age = WINDOW_SECONDS - 1; age >= 0; age--) {
        long second = nowSecond - age;
        int i = (int) (Math.floorMod(second, (long) WINDOW_SECONDS));
        if (bucketSecond[i] == second) {
          excess -= buckets[i];
          if (excess <= 0) {
            return WINDOW_SECONDS - age;
          }
        }
      }
      return WINDOW_SECONDS;
    }

    public boolean idle(long nowSecond) {
      if (open > 0) {
        return false;
      }
      for (long s : bucketSecond) {
        if (nowSecond - s < WINDOW_SECONDS) {
          return false;
        }
      }
      return true;
    }
  }

  /** One admitted connection; {@link #release()} is idempotent. */
  public final class Permit {
    private final String ip;
    private volatile String user;
    private final AtomicBoolean released = new AtomicBoolean();

    private Permit(String ip) {
      this.ip = ip;
    }

    public void release() {
      if (released.compareAndSet(false, true)) {
        total.decrementAndGet();
        releaseIp(ip);
        if (user != null) {
          releaseUser(user);
        }
      }
    }
  }

  /** A refused attempt: the error and the {@code Retry-After} seconds. */
  public static final class Refusal extends RuntimeException {
    private final transient HeraldException error;
    private final int retryAfterSeconds;

    public Refusal(ErrorCode code, String message, int retryAfterSeconds) {
      super(message, null, false, false);
      this.error = new HeraldException(code, message);
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public HeraldException error() {
      return error;
    }

    public int retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }
}
