package io.herald.replay;

import io.herald.common.HeraldLauncher;

/** Entry point of the {@code herald-replay} jar: runs the replay role alone. */
public final class ReplayMain {

  private ReplayMain() {
  }

  public static void main(String[] args) {
    HeraldLauncher.main(args, new ReplayRole());
  }
}
