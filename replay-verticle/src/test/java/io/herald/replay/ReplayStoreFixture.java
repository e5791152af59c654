package io.herald.replay;

import io.herald.common.Event;
import io.herald.common.EventDraft;
import io.herald.common.Position;
import io.herald.common.replay.LogReadResult;
import io.herald.common.replay.ReadResult;
import io.herald.common.replay.ReplayStore;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fixture of the {@link ReplayStore} contract tests, backend-neutral: a subclass per backend
 * supplies {@link #createStore}. Each test works on topics of its own (a random prefix), so a
 * backend that keeps data between runs (Redis, PostgreSQL) needs no cleanup. Store calls run on a
 * Vert.x event-loop context, as in the replay verticle; the test thread only waits for their
 * futures.
 *
 * <p>Time is a fake clock that tests move with {@link #advance}: every backend reads event ages by
 * the clock it is given. {@link ReplayStoreContractTest} adds the contract's tests; a backend's
 * own tests that should not run the contract again extend this fixture only.
 */
@ExtendWith(VertxExtension.class)
abstract class ReplayStoreFixture {

  /** The fake clock's start, epoch milliseconds. */
  protected static final long START_MILLIS = 1_700_000_000_000L;
  /** Longest wait for one store call. */
  protected static final long TIMEOUT_SECONDS = 10;

  /** The Vert.x of the current test (from {@link VertxExtension}). */
  protected Vertx vertx;
  private Context context;
  private final AtomicLong clock = new AtomicLong(START_MILLIS);
  private final List<ReplayStore> stores = new ArrayList<>();
  private String prefix;

  /**
   * A new store of the backend under test, empty as far as this test's topics go.
   *
   * @param clock epoch milliseconds, the store's only notion of time
   */
  protected abstract ReplayStore createStore(ReplayOptions options, LongSupplier clock);

  /**
   * Whether the store holds anything for {@code topic} (a row, a key, a map entry, a
   * ringbuffer): read from the backend itself, not through the store's API.
   */
  protected abstract boolean holdsState(ReplayStore store, String topic);

  /**
   * A second store over the same backend data as {@code first} (same Redis prefix, same tables,
   * another Hazelcast member of the same cluster), closed by the caller; null for a backend
   * whose stores share nothing (memory).
   */
  protected ReplayStore createSharingStore(ReplayStore first, ReplayOptions options, LongSupplier clock) {
    return null;
  }

  /**
   * Does what the deployment does periodically for retention; the default sweeps a
   * {@link Sweepable} store. Called after time moved in tests that remove whole topics.
   */
  protected void maintain(ReplayStore store) {
    if (store instanceof Sweepable sweepable) {
      onContext(() -> {
        sweepable.sweep();
        return null;
      });
    }
  }

  /** This fixture, for the contract's interfaces. */
  public ReplayStoreFixture contract() {
    return this;
  }

  /** The Vert.x context store calls run on. */
  Context context() {
    return context;
  }

  @BeforeEach
  void setUpContract(Vertx vertx) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.prefix = "c" + UUID.randomUUID().toString().substring(0, 8) + "/";
  }

  @AfterEach
  void closeStores() {
    for (ReplayStore s : stores) {
      await(s::close);
    }
    stores.clear();
  }

  protected Position logHead(ReplayStore s) {
    return await(s::logHead);
  }

  protected LogReadResult readLog(ReplayStore s, Position after, Predicate<String> filter, int limit) {
    return await(() -> s.readLog(after, filter, limit));
  }

  /** Every event of the log after {@code after}, following scannedTo to the head; fails on a reset. */
  protected List<Event> readLogAll(ReplayStore s, Position after) {
    List<Event> out = new ArrayList<>();
    Position at = after;
    for (int page = 0; page < 10_000; page++) {
      LogReadResult r = readLog(s, at, t -> true, 100);
      assertThat(r.reset()).as("reset").isFalse();
      out.addAll(r.events());
      if (r.complete()) {
        return out;
      }
      at = r.scannedTo();
    }
    throw new AssertionError("paging did not reach the log head");
  }

  protected static void assertLogReset(LogReadResult r, Position head) {
    assertThat(r.reset()).as("reset").isTrue();
    assertThat(r.events()).as("a reset carries no events").isEmpty();
    assertThat(r.head()).as("a reset carries the log head").isEqualTo(head);
    assertThat(r.scannedTo()).isEqualTo(head);
  }

  // ---------------------------------------------------------------- helpers for subclasses

  /** A store of the backend under test with default options. */
  protected ReplayStore newStore() {
    return newStore(new JsonObject());
  }

  /**
   * {@code replay} keys every store of this backend's tests gets unless the test sets them:
   * none here; a backend whose appends have a deadline of their own gives them room.
   */
  protected JsonObject testDefaults() {
    return new JsonObject();
  }

  /** A store with these {@code replay} keys over the defaults; closed after the test. */
  protected ReplayStore newStore(JsonObject options) {
    ReplayOptions parsed = new ReplayOptions(testDefaults().mergeIn(options));
    ReplayStore s = onContext(() -> createStore(parsed, clock::get));
    stores.add(s);
    return s;
  }

  /** A topic name unique to this test. */
  protected String topic(String name) {
    return prefix + name;
  }

  protected static EventDraft draft(String topic, String data) {
    return new EventDraft(topic, "message", data, false, null);
  }

  protected static EventDraft keyed(String topic, String data, String key) {
    return new EventDraft(topic, "message", data, false, key);
  }

  protected List<Event> append(ReplayStore s, EventDraft... drafts) {
    List<Event> out = await(() -> s.append(Arrays.asList(drafts)));
    assertThat(out).hasSize(drafts.length);
    return out;
  }

  /** Appends {@code n} events {@code "0"}, {@code "1"}, ... to {@code topic}, one call each. */
  protected List<Event> appendMany(ReplayStore s, String topic, int n) {
    List<Event> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(append(s, draft(topic, Integer.toString(i))).get(0));
    }
    return out;
  }

  protected ReadResult read(ReplayStore s, String topic, Position after, int limit) {
    return await(() -> s.read(topic, after, limit));
  }

  /** Every event after {@code after}, paging until the head; fails on a reset. */
  protected List<Event> readAll(ReplayStore s, String topic, Position after) {
    List<Event> out = new ArrayList<>();
    Position at = after;
    for (int page = 0; page < 1000; page++) {
      ReadResult r = read(s, topic, at, 100);
      assertThat(r.reset()).isFalse();
      out.addAll(r.events());
      if (r.complete()) {
        return out;
      }
      at = r.events().get(r.events().size() - 1).position();
    }
    throw new AssertionError("paging did not reach the head");
  }

  protected Position head(ReplayStore s, String topic) {
    return await(() -> s.head(topic));
  }

  protected static void assertReset(ReadResult r, Position head) {
    assertThat(r.reset()).as("reset").isTrue();
    assertThat(r.events()).as("a reset carries no events").isEmpty();
    assertThat(r.head()).as("a reset carries the head").isEqualTo(head);
  }

  /** The fake clock, epoch milliseconds. */
  protected long now() {
    return clock.get();
  }

  /** Moves the fake clock forward. */
  protected void advance(long millis) {
    clock.addAndGet(millis);
  }

  static String otherEpoch(String epoch) {
    return epoch.equals("Other0") ? "Other1" : "Other0";
  }

  /** Runs a store call on the test's Vert.x context and waits for its future. */
  protected <T> T await(Supplier<Future<T>> op) {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        op.get().onComplete(ar -> {
          if (ar.succeeded()) {
            done.complete(ar.result());
          } else {
            done.completeExceptionally(ar.cause());
          }
        });
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    return get(done);
  }

  /** Runs {@code op} on the test's Vert.x context and returns its result. */
  protected <T> T onContext(Callable<T> op) {
    CompletableFuture<T> done = new CompletableFuture<>();
    context.runOnContext(v -> {
      try {
        done.complete(op.call());
      } catch (Throwable t) {
        done.completeExceptionally(t);
      }
    });
    return get(done);
  }

  private static <T> T get(CompletableFuture<T> f) {
    try {
      return f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw new AssertionError(e.getCause());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
