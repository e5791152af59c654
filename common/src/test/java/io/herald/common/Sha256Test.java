package io.herald.common;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;

class Sha256Test {

  // FIPS 180-2, appendix B.1 and B.2, and the digest of no bytes.
  private static final String ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  private static final String TWO_BLOCKS = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
  private static final String EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @Test
  void knownDigests() {
    assertEquals(ABC, Sha256.hex("abc"));
    assertEquals(TWO_BLOCKS, Sha256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"));
    assertEquals(EMPTY, HexFormat.of().formatHex(Sha256.of(new byte[0])));
  }

  /** The per-thread digest starts afresh on every call: a digest never depends on the one before. */
  @Test
  void eachCallIsIndependentOfThePrevious() {
    for (int i = 0; i < 3; i++) {
      assertEquals(ABC, Sha256.hex("abc"));
      assertEquals(EMPTY, Sha256.hex(""));
    }
  }

  @Test
  void threadsDoNotShareState() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> results = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        String input = "topic-" + t;
        String expected = Sha256.hex(input);
        results.add(pool.submit(() -> {
          for (int i = 0; i < 20_000; i++) {
            if (!expected.equals(HexFormat.of().formatHex(Sha256.of(input.getBytes(StandardCharsets.UTF_8))))) {
              return false;
            }
          }
          return true;
        }));
      }
      for (Future<Boolean> r : results) {
        assertEquals(true, r.get());
      }
    } finally {
      pool.shutdownNow();
    }
  }
}
