package io.herald.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/** Helpers for SSE streams read as plain bytes (the JDK HTTP client, raw sockets). */
public final class SseStreams {

  private SseStreams() {
  }

  /** The data of the first application event of a stream (not a {@code herald.*} control event), read on another thread. */
  public static CompletableFuture<String> firstAppData(InputStream body) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        BufferedReader r = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
        String event = "message";
        String line;
        while ((line = r.readLine()) != null) {
          if (line.startsWith("event: ")) {
            event = line.substring(7);
          } else if (line.startsWith("data: ") && !event.startsWith("herald.")) {
            return line.substring(6);
          } else if (line.isEmpty()) {
            event = "message";
          }
        }
        return null;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }
}
