package io.herald.notifier;

import io.herald.common.Event;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Transaction;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the PostgreSQL outbox ingest delivers: the shipped trigger's rows in order, data digit for
 * digit, payloads beyond NOTIFY's limit, rejected rows marked, published rows cleaned up, bad
 * settings refused. When it delivers (wake-ups, restarts, failures, two nodes) is in
 * {@link PgOutboxDeliveryTest}.
 */
class PgOutboxIngestTest extends PgOutboxFixture {

  @Test
  @DisplayName("The shipped ticket trigger publishes each insert and update with the row's data, in order")
  void shippedTicketTrigger() throws Exception {
    PgOutboxIngest ingest = ingest(1000, 100);
    await(ingest.start());
    await(db.query("INSERT INTO tickets (title) VALUES ('Printer on fire')").execute());
    await(db.query("INSERT INTO tickets (title) VALUES ('Coffee machine empty')").execute());
    await(db.query("UPDATE tickets SET status = 'closed' WHERE id = 1").execute());

    List<Event> one = waitForEvents("tickets.1", 2);
    assertThat(one).extracting(Event::type).containsOnly("ticket.updated");
    assertThat(one).extracting(e -> new JsonObject(e.data())).containsExactly(
      new JsonObject().put("id", 1).put("status", "open").put("title", "Printer on fire"),
      new JsonObject().put("id", 1).put("status", "closed").put("title", "Printer on fire"));
    assertThat(one).allMatch(Event::json);
    List<Event> all = waitForEvents("tickets", 3);
    assertThat(all).extracting(e -> new JsonObject(e.data()).getString("status") + "/" + new JsonObject(e.data()).getLong("id"))
      .containsExactly("open/1", "open/2", "closed/1");
    assertThat(readAll("tickets.2")).hasSize(1);
    // Rows are marked published when the drain commits, a moment after the events are readable.
    // Three statements, two rows each (tickets.<id> and tickets).
    waitUntil(() -> ingest.status().getLong("published") == 6, 5000, "6 rows counted as published");
    waitUntil(() -> {
      try {
        return count("SELECT count(*) FROM herald_outbox WHERE published_at IS NULL") == 0;
      } catch (Exception e) {
        return false;
      }
    }, 5000, "every row marked published");
  }

  @Test
  @DisplayName("Data is delivered as PostgreSQL holds it, digit for digit (jsonb and json columns); a lone surrogate rejects the row")
  void exactData() throws Exception {
    PgOutboxIngest ingest = ingest(1000, 100);
    await(ingest.start());
    String pi = ExactValues.PI;
    // jsonb keeps every digit (it turns -0 into 0 itself, and refuses 1e999999)
    await(db.preparedQuery("SELECT herald_publish('exact', 'n', $1::text::jsonb)")
      .execute(Tuple.of("{\"pi\": " + pi + ", \"big\": 123456789012345678901234567890, \"one\": 1.0, \"n\": [[1.0, [" + pi + "]], []]}")));
    List<Event> jsonb = waitForEvents("exact", 1);
    assertThat(jsonb.get(0).data())
      .isEqualTo("{\"n\":[[1.0,[" + pi + "]],[]],\"pi\":" + pi + ",\"big\":123456789012345678901234567890,\"one\":1.0}");
    // a json column keeps the text as written
    await(db.query("ALTER TABLE herald_outbox ALTER COLUMN data TYPE json USING data::json").execute());
    for (String v : ExactValues.VALUES) {
      await(db.preparedQuery("INSERT INTO herald_outbox (topic, type, data) VALUES ('exact', 'n', $1::text::json)").execute(Tuple.of(v)));
    }
    await(db.query("INSERT INTO herald_outbox (topic, type, data) VALUES ('exact', 'n', '[\"\\ud800\"]'::json)").execute());
    await(db.query("INSERT INTO herald_outbox (topic, type, data) VALUES ('exact', 'n', '\"marker\"'::json)").execute());
    List<Event> got = waitForEvents("exact", ExactValues.VALUES.size() + 2);
    List<String> expected = new java.util.ArrayList<>(ExactValues.VALUES);
    expected.add("marker");
    assertThat(got.subList(1, got.size())).extracting(Event::data).containsExactlyElementsOf(expected);
    // The rejection is committed a moment after the events are readable.
    waitUntil(() -> {
      try {
        return count("SELECT count(*) FROM herald_outbox WHERE error IS NOT NULL") == 1;
      } catch (Exception e) {
        return false;
      }
    }, 5000, "the row with a lone surrogate marked rejected");
    assertThat(ingest.status().getLong("rejected")).isEqualTo(1);
    Row bad = await(db.query("SELECT error FROM herald_outbox WHERE data::text LIKE '%ud800%'").execute()).iterator().next();
    assertThat(bad.getString("error")).startsWith("invalid_data").contains("lone surrogate");
  }

  @Test
  @DisplayName("A 20 KB payload, beyond NOTIFY's 8000-byte limit, arrives whole")
  void largePayload() throws Exception {
    PgOutboxIngest ingest = ingest(1000, 100);
    await(ingest.start());
    String text = "x".repeat(20_000);
    await(db.preparedQuery("SELECT herald_publish('big', 'blob', jsonb_build_object('text', $1::text))").execute(Tuple.of(text)));
    await(db.query("SELECT herald_publish('big', NULL, '\"plain text\"')").execute());
    List<Event> got = waitForEvents("big", 2);
    assertThat(new JsonObject(got.get(0).data()).getString("text")).isEqualTo(text);
    assertThat(got.get(0).type()).isEqualTo("blob");
    assertThat(got.get(1).data()).isEqualTo("plain text");
    assertThat(got.get(1).json()).isFalse();
    assertThat(got.get(1).type()).isEqualTo("message");
  }

  @Test
  @DisplayName("A row Herald rejects is marked with the reason and does not block the rows behind it")
  void badRow() throws Exception {
    await(db.query("BEGIN; SELECT herald_publish('mixed', 'n', '1'); SELECT herald_publish('no good', 'n', '2');"
      + " SELECT herald_publish('mixed', 'n', '3'); COMMIT").execute());
    PgOutboxIngest ingest = ingest(1000, 100);
    await(ingest.start());
    waitForEvents("mixed", 2);
    await(db.query("SELECT herald_publish('mixed', 'n', '4')").execute());
    assertThat(waitForEvents("mixed", 3)).extracting(Event::data).containsExactly("1", "3", "4");
    Row bad = await(db.query("SELECT published_at, error FROM herald_outbox WHERE topic = 'no good'").execute()).iterator().next();
    assertThat(bad.getValue("published_at")).isNotNull();
    assertThat(bad.getString("error")).startsWith("invalid_topic");
    // The row is marked and counted after the store answered, a moment after the event is readable.
    waitUntil(() -> ingest.status().getLong("published") == 3, 5000, "3 rows counted as published");
    assertThat(ingest.status().getLong("rejected")).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM herald_outbox WHERE published_at IS NULL")).isZero();
  }

  @Test
  @DisplayName("Published rows past the retention are deleted; unpublished rows are kept")
  void cleanup() throws Exception {
    PgOutboxIngest ingest = ingest(60_000, 100, 0);
    await(ingest.start());
    await(db.query("SELECT herald_publish('gone', 'n', to_jsonb(g)) FROM generate_series(1, 5) g").execute());
    waitForEvents("gone", 5);
    waitUntil(() -> {
      try {
        return count("SELECT count(*) FROM herald_outbox WHERE published_at IS NULL") == 0;
      } catch (Exception e) {
        return false;
      }
    }, 5000, "marked");
    // Another "node" holds the drain lock: the new row stays unpublished while cleanup runs.
    SqlConnection holder = await(db.getConnection());
    Transaction tx = await(holder.begin());
    await(holder.preparedQuery("SELECT pg_advisory_xact_lock(1214607972, $1::regclass::oid::int)")
      .execute(Tuple.of(schema + ".herald_outbox")));
    await(db.query("SELECT herald_publish('later', 'n', '1')").execute());
    assertThat(await(ingest.cleanup())).isEqualTo(5);
    assertThat(count("SELECT count(*) FROM herald_outbox WHERE topic = 'gone'")).isZero();
    assertThat(count("SELECT count(*) FROM herald_outbox WHERE topic = 'later' AND published_at IS NULL")).isEqualTo(1);
    await(tx.commit());
    await(holder.close());
    waitForEvents("later", 1);
  }

  @Test
  @DisplayName("Bad settings are refused with the setting's name")
  void badSettings() {
    assertThatThrownBy(() -> new PgOutboxIngest(vertx, publisher::publish, URL, "x; drop", "c", 1, 1))
      .hasMessageContaining("table");
    assertThatThrownBy(() -> new PgOutboxIngest(vertx, publisher::publish, URL, "t", "Bad-Channel", 1, 1))
      .hasMessageContaining("channel");
    assertThatThrownBy(() -> new PgOutboxIngest(vertx, publisher::publish, URL, "t", "c", 0, 1))
      .hasMessageContaining("pollMillis");
    assertThatThrownBy(() -> new PgOutboxIngest(vertx, publisher::publish, URL, "t", "c", 1, 0))
      .hasMessageContaining("batchSize");
  }
}
