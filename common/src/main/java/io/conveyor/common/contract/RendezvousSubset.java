package io.conveyor.common.contract;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Deterministic subsetting: which replicas of a stage one sidecar is told about. Each caller ranks
 * every target by a score hashed from the pair (caller key, target key) and keeps the highest
 * {@code size} (rendezvous, or highest-random-weight, hashing). A caller that is itself a target of
 * the stage always keeps itself, and it counts towards the size: local routing stays as it was.
 *
 * <p>Why rendezvous: adding a target changes only the subsets it ranks into (about {@code size /
 * targets} of the callers), removing one only the subsets that held it, so a change in the fleet
 * costs the router small deltas instead of new sets for everybody. The hash is fixed (FNV-1a, then
 * the MurmurHash3 finalizer): no randomness and no clock, so every router computes the same subsets
 * and a router restart moves nobody. The balance is statistical, not exact: each target is chosen
 * by about {@code callers × size / targets} callers, a binomial count (see {@code
 * RendezvousSubsetTest} for the measured bound). gRPC's deterministic subsetting (gRFC A68) trades
 * that variance for exact balance by numbering the clients, which a sidecar fleet does not have.
 *
 * <p>A pure function, shared as a contract: the router's incremental planner ({@code
 * io.conveyor.router.plan.StageSubsets}) must agree with it, and so must the benchmark's check of
 * what each sidecar holds.
 */
public final class RendezvousSubset {

  /** The subset size routers use unless configured otherwise. */
  public static final int DEFAULT_SIZE = 16;

  /** The largest size a router may be configured with: beyond it a subset bounds nothing real. */
  public static final int MAX_SIZE = 1000;

  private RendezvousSubset() {}

  /**
   * One replica a caller may be told about.
   *
   * @param id the sidecar id (what a subset lists)
   * @param key the stable key of its pod (the router's {@code SidecarRecord#podKey()}: the pod UID
   *     where there is one), which it is ranked by
   */
  public record Candidate(String id, String key) {}

  /**
   * The ids of the targets {@code caller} keeps, in id order: all of them when there are at most
   * {@code size}, else itself (when it is one) and the best ranked of the others.
   *
   * @param callerId the caller's sidecar id: a target with this id is its own pod's and kept
   * @param callerKey the caller's pod key, which the ranking is hashed from
   */
  public static List<String> choose(
      String callerId, String callerKey, List<Candidate> targets, int size) {
    requireSize(size);
    List<String> chosen = new ArrayList<>();
    long caller = keyHash(callerKey);
    int room = size;
    for (Candidate target : targets) {
      if (target.id().equals(callerId)) {
        chosen.add(target.id());
        room--;
        break;
      }
    }
    Comparator<Ranked> worstFirst = RendezvousSubset::compareRank;
    PriorityQueue<Ranked> best = new PriorityQueue<>(worstFirst);
    for (Candidate target : targets) {
      if (target.id().equals(callerId) || room <= 0) {
        continue;
      }
      best.add(new Ranked(target.id(), score(caller, targetHash(target.key()))));
      if (best.size() > room) {
        best.poll();
      }
    }
    best.forEach(r -> chosen.add(r.id()));
    chosen.sort(Comparator.naturalOrder());
    return chosen;
  }

  /**
   * @throws IllegalArgumentException when {@code size} is below 1
   */
  public static int requireSize(int size) {
    if (size < 1) {
      throw new IllegalArgumentException(
          "the subset size must be at least 1 (targets per next stage), was " + size);
    }
    return size;
  }

  private record Ranked(String id, long score) {}

  /** Orders worse ranks first: lower score, then (ties) the larger id. */
  private static int compareRank(Ranked a, Ranked b) {
    return compareRank(a.score(), a.id(), b.score(), b.id());
  }

  /** Below zero when (scoreA, idA) ranks worse than (scoreB, idB). */
  public static int compareRank(long scoreA, String idA, long scoreB, String idB) {
    int byScore = Long.compareUnsigned(scoreA, scoreB);
    return byScore != 0 ? byScore : idB.compareTo(idA);
  }

  /**
   * The caller's half of a score (public for the router's incremental planner, which ranks as this
   * does).
   */
  public static long keyHash(String key) {
    long hash = 0xcbf29ce484222325L; // FNV-1a, 64 bits, over the UTF-16 code units
    for (int i = 0; i < key.length(); i++) {
      hash ^= key.charAt(i);
      hash *= 0x100000001b3L;
    }
    return fmix64(hash);
  }

  /** The target's half of a score: mixed apart from the caller's so that equal keys differ. */
  public static long targetHash(String key) {
    return fmix64(keyHash(key) ^ 0x9e3779b97f4a7c15L);
  }

  /** The rank of a target for a caller; higher is better. */
  public static long score(long callerHash, long targetHash) {
    return fmix64(callerHash ^ targetHash);
  }

  /** MurmurHash3's 64-bit finalizer: every input bit flips each output bit with odds near 1/2. */
  private static long fmix64(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb93fe53a87d5L;
    k ^= k >>> 33;
    return k;
  }
}
