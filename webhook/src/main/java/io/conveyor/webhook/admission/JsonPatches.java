package io.conveyor.webhook.admission;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.zjsonpatch.DiffFlags;
import io.fabric8.zjsonpatch.JsonDiff;
import java.util.EnumSet;

/**
 * The JSON Patch from one object to another, computed by diffing — never written by hand, so it
 * cannot disagree with the mutation. Only add, remove and replace are emitted: easy to read in
 * audit logs, and what every API server applies.
 */
public final class JsonPatches {

  private static final EnumSet<DiffFlags> FLAGS =
      EnumSet.of(
          DiffFlags.OMIT_MOVE_OPERATION,
          DiffFlags.OMIT_COPY_OPERATION,
          DiffFlags.OMIT_VALUE_ON_REMOVE);

  private JsonPatches() {}

  public static JsonNode diff(JsonNode before, JsonNode after) {
    return JsonDiff.asJson(before, after, FLAGS);
  }
}
