package io.herald.standalone;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipEntry;

import static org.assertj.core.api.Assertions.assertThat;

/** The shaded jar itself: runnable with {@code java -jar}, service providers not lost in the merge. */
class FatJarIT {

  @Test
  @DisplayName("The manifest names HeraldMain and opens what Hazelcast needs")
  void manifest() throws IOException {
    try (JarFile jar = new JarFile(HeraldProcess.JAR.toFile())) {
      Manifest m = jar.getManifest();
      assertThat(m.getMainAttributes().getValue("Main-Class")).isEqualTo(HeraldMain.class.getName());
      assertThat(m.getMainAttributes().getValue("Add-Opens")).contains("java.base/java.lang");
      assertThat(jar.getEntry("io/herald/gateway/GatewayRole.class")).isNotNull();
      assertThat(jar.getEntry("io/herald/notifier/NotifierRole.class")).isNotNull();
      assertThat(jar.getEntry("io/herald/replay/ReplayRole.class")).isNotNull();
      assertThat(jar.getEntry("herald.json")).as("the packaged default configuration").isNotNull();
    }
  }

  @Test
  @DisplayName("META-INF/services files survive the shading, so the cluster manager and the logging backend are found")
  void servicesMerged() throws IOException {
    try (JarFile jar = new JarFile(HeraldProcess.JAR.toFile())) {
      assertThat(read(jar, "META-INF/services/io.vertx.core.spi.VertxServiceProvider"))
        .contains("io.vertx.spi.cluster.hazelcast.HazelcastClusterManager");
      assertThat(read(jar, "META-INF/services/org.slf4j.spi.SLF4JServiceProvider"))
        .contains("ch.qos.logback.classic.spi.LogbackServiceProvider");
      assertThat(read(jar, "META-INF/services/com.hazelcast.DataSerializerHook")).contains("com.hazelcast.");
    }
  }

  private static String read(JarFile jar, String name) throws IOException {
    ZipEntry e = jar.getEntry(name);
    assertThat(e).as(name).isNotNull();
    try (InputStream in = jar.getInputStream(e)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
