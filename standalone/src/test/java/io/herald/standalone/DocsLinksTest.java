package io.herald.standalone;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every relative link of README.md and docs/*.md points to a file that exists, and every
 * {@code #anchor} to a heading of its page, by GitHub's slug rules. The same check as
 * {@code docs/check_links.py}, so that it runs in CI.
 */
class DocsLinksTest {

  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  /** Pages colleagues are still writing: linked already, checked as soon as they exist. */
  private static final Set<String> PENDING = Set.of("BENCHMARKS.md");
  private static final Pattern LINK = Pattern.compile("(?<!!)\\[(?:[^\\[\\]]|\\[[^\\]]*\\])*\\]\\(([^)\\s]+)(?:\\s+\"[^\"]*\")?\\)");
  private static final Pattern HEADING = Pattern.compile("^(#{1,6})\\s+(.*?)\\s*#*\\s*$");
  private static final Pattern SCHEME = Pattern.compile("^[a-z][a-z0-9+.-]*:");

  @Test
  @DisplayName("Every relative link in README.md and docs/*.md resolves to a file, and every anchor to a heading")
  void linksResolve() throws IOException {
    List<Path> pages = pages();
    assertThat(pages).as("README.md and the docs pages").hasSizeGreaterThan(5);
    List<String> broken = new ArrayList<>();
    int links = 0;
    for (Path page : pages) {
      String[] lines = stripCode(Files.readString(page)).split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        Matcher m = LINK.matcher(lines[i]);
        while (m.find()) {
          String target = m.group(1);
          if (SCHEME.matcher(target).find()) {
            continue;
          }
          links++;
          int hash = target.indexOf('#');
          String path = hash < 0 ? target : target.substring(0, hash);
          String anchor = hash < 0 ? "" : target.substring(hash + 1);
          Path resolved = path.isEmpty() ? page : page.getParent().resolve(path).normalize();
          String where = ROOT.relativize(page) + ":" + (i + 1) + ": " + target;
          if (!Files.exists(resolved)) {
            if (!PENDING.contains(ROOT.relativize(resolved).toString())) {
              broken.add(where + ": no such file");
            }
            continue;
          }
          if (!anchor.isEmpty() && (!resolved.toString().endsWith(".md") || !anchors(resolved).contains(anchor))) {
            broken.add(where + ": no heading #" + anchor);
          }
        }
      }
    }
    assertThat(links).as("relative links found").isGreaterThan(20);
    assertThat(broken).as("broken links").isEmpty();
  }

  @Test
  @DisplayName("GitHub's heading slugs are computed as GitHub does")
  void slugs() {
    assertThat(slug("Subscribing (`GET /events`)")).isEqualTo("subscribing-get-events");
    assertThat(slug("JavaScript client (`/herald.js`)")).isEqualTo("javascript-client-heraldjs");
    assertThat(slug("The demo page (`GET /`)")).isEqualTo("the-demo-page-get-");
    assertThat(slug("HTTP/2 and TLS")).isEqualTo("http2-and-tls");
    assertThat(slug("Replacing 5–60 s polling")).isEqualTo("replacing-560-s-polling");
  }

  private static List<Path> pages() throws IOException {
    List<Path> pages = new ArrayList<>();
    pages.add(ROOT.resolve("README.md"));
    try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
    }
    return pages;
  }

  /** The text without fenced code blocks and inline code spans: links there are not links. */
  private static String stripCode(String text) {
    StringBuilder out = new StringBuilder();
    boolean fenced = false;
    for (String line : text.split("\n", -1)) {
      if (line.stripLeading().startsWith("```")) {
        fenced = !fenced;
        out.append('\n');
        continue;
      }
      out.append(fenced ? "" : line.replaceAll("`[^`]*`", "``")).append('\n');
    }
    return out.toString();
  }

  static String slug(String heading) {
    String text = heading.replaceAll("\\[([^\\]]*)\\]\\([^)]*\\)", "$1").toLowerCase(Locale.ROOT);
    text = text.replaceAll("[^\\p{L}\\p{N}_\\- ]", "");
    return text.replace(' ', '-');
  }

  private static Set<String> anchors(Path page) throws IOException {
    Map<String, Integer> seen = new HashMap<>();
    Set<String> result = new HashSet<>();
    boolean fenced = false;
    for (String line : Files.readString(page).split("\n", -1)) {
      if (line.stripLeading().startsWith("```")) {
        fenced = !fenced;
        continue;
      }
      Matcher m = fenced ? null : HEADING.matcher(line);
      if (m != null && m.matches()) {
        String base = slug(m.group(2));
        int n = seen.merge(base, 1, Integer::sum) - 1;
        result.add(n == 0 ? base : base + "-" + n);
      }
    }
    return result;
  }
}
