package io.conveyor.examples.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class PortBlockTest {

  @Test
  void noTwoBlocksOfOneJvmOverlapThoughNoneIsBoundYet() {
    // A hundred blocks of ten, none bound by anyone: each is free when the next is sought, as a
    // pod's ports are until its processes start. Drawn at random over 12,000 ports, about eight
    // pairs of them would overlap.
    BitSet taken = new BitSet();
    for (int i = 0; i < 100; i++) {
      PortBlock block = PortBlock.allocate(10);
      assertThat(taken.get(block.first(), block.last() + 1).isEmpty())
          .as("block %d-%d overlaps one handed out before", block.first(), block.last())
          .isTrue();
      taken.set(block.first(), block.last() + 1);
    }
  }
}
