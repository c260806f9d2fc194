package io.conveyor.router.plan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * A ShardedMap holds what a HashMap given the same changes holds, through growth past many shard
 * counts and back down, and every version built stays as it was when later versions change.
 */
class ShardedMapTest {

  @Test
  void holdsWhatAHashMapHoldsAndEveryVersionStaysAsItWas() {
    Random random = new Random(20_261_207L);
    List<ShardedMap<Integer>> versions = new ArrayList<>();
    List<Map<String, Integer>> expected = new ArrayList<>();
    ShardedMap<Integer> map = ShardedMap.empty();
    Map<String, Integer> reference = new HashMap<>();
    for (int step = 0; step < 400; step++) {
      boolean growing = step < 250;
      ShardedMap.Builder<Integer> builder = map.toBuilder();
      int changes = 1 + random.nextInt(60);
      for (int c = 0; c < changes; c++) {
        String key = "sc-" + random.nextInt(6000);
        if (random.nextInt(10) < (growing ? 8 : 2)) {
          builder.put(key, step);
          reference.put(key, step);
        } else {
          builder.remove(key);
          reference.remove(key);
        }
        assertThat(builder.get(key)).isEqualTo(reference.get(key));
      }
      map = builder.build();
      versions.add(map);
      expected.add(new HashMap<>(reference));
    }
    for (int v = 0; v < versions.size(); v++) {
      assertThat(contents(versions.get(v))).as("version %d", v).isEqualTo(expected.get(v));
      assertThat(versions.get(v).size()).isEqualTo(expected.get(v).size());
      for (String key : expected.get(v).keySet()) {
        assertThat(versions.get(v).get(key)).isEqualTo(expected.get(v).get(key));
        assertThat(versions.get(v).containsKey(key)).isTrue();
      }
    }
    assertThat(expected.stream().mapToInt(Map::size).max().getAsInt())
        .as("grew past many shard counts")
        .isGreaterThan(2000);
  }

  @Test
  void aBuilderThatChangedNothingBuildsTheSameMap() {
    ShardedMap.Builder<Integer> builder = ShardedMap.<Integer>empty().toBuilder();
    builder.put("a", 1);
    ShardedMap<Integer> map = builder.build();
    ShardedMap.Builder<Integer> unchanged = map.toBuilder();
    unchanged.remove("absent");
    assertThat(unchanged.build()).isSameAs(map);
  }

  private static Map<String, Integer> contents(ShardedMap<Integer> map) {
    Map<String, Integer> out = new HashMap<>();
    map.forEach(out::put);
    return out;
  }
}
