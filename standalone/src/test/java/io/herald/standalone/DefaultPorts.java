package io.herald.standalone;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * For test classes that run the docs' commands as written, on Herald's default ports (8080, 8081,
 * 8082, 9090 and Hazelcast's 5701): one such class at a time across the integration tests' JVMs
 * (failsafe runs two). The class holds an exclusive lock on {@code target/default-ports.lock} from
 * before its first test to after its last; a class of the other JVM waits for it there.
 */
final class DefaultPorts implements BeforeAllCallback, AfterAllCallback {

  static final Path LOCK = Path.of("target", "default-ports.lock");

  @Override
  public void beforeAll(ExtensionContext context) throws IOException {
    Files.createDirectories(LOCK.getParent());
    FileChannel channel = FileChannel.open(LOCK, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock = channel.lock();
    context.getStore(ExtensionContext.Namespace.create(DefaultPorts.class)).put("lock", lock);
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    FileLock lock = context.getStore(ExtensionContext.Namespace.create(DefaultPorts.class)).remove("lock", FileLock.class);
    if (lock != null) {
      lock.release();
      lock.channel().close();
    }
  }
}
