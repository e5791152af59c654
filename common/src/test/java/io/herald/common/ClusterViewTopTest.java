package io.herald.common;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** The dashboard's top topics: the {@link ClusterView#MAX_TOP_TOPICS} with the most subscribers, ties by name. */
class ClusterViewTopTest {

  private static JsonArray expected(Map<String, Integer> counts) {
    List<Map.Entry<String, Integer>> all = new ArrayList<>(counts.entrySet());
    all.sort(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder()).thenComparing(Map.Entry.comparingByKey()));
    JsonArray out = new JsonArray();
    all.stream().limit(ClusterView.MAX_TOP_TOPICS)
      .forEach(e -> out.add(new JsonObject().put("topic", e.getKey()).put("subscribers", e.getValue())));
    return out;
  }

  @Test
  @DisplayName("thousands of topics with many ties: the same ten as a full sort, in its order")
  void manyTopicsWithTies() {
    Random random = new Random(42);
    for (int round = 0; round < 50; round++) {
      Map<String, Integer> counts = new HashMap<>();
      int n = 1 + random.nextInt(3000);
      for (int i = 0; i < n; i++) {
        counts.put("t" + random.nextInt(100_000), random.nextInt(round % 2 == 0 ? 5 : 1000));
      }
      assertThat(ClusterView.top(counts)).isEqualTo(expected(counts));
    }
  }

  @Test
  @DisplayName("fewer topics than the top's length: all of them, most first, ties by name")
  void fewTopics() {
    Map<String, Integer> counts = Map.of("b", 2, "a", 2, "c", 7);
    assertThat(ClusterView.top(counts)).isEqualTo(new JsonArray()
      .add(new JsonObject().put("topic", "c").put("subscribers", 7))
      .add(new JsonObject().put("topic", "a").put("subscribers", 2))
      .add(new JsonObject().put("topic", "b").put("subscribers", 2)));
    assertThat(ClusterView.top(Collections.emptyMap())).isEmpty();
  }
}
