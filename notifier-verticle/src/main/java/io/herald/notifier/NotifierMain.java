package io.herald.notifier;

import io.herald.common.HeraldLauncher;

/** {@code java -jar herald-notifier.jar [--config FILE] [--cluster]}: a publisher-ingestion process. */
public final class NotifierMain {

  private NotifierMain() {
  }

  public static void main(String[] args) {
    HeraldLauncher.main(args, new NotifierRole());
  }
}
