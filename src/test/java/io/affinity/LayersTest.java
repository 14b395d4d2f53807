package io.affinity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layers of docs/ARCHITECTURE.md, checked: a package of {@code io.affinity} may use only the
 * packages its row of {@link #ALLOWED} lists. Two views, because each misses something the other
 * sees: the compiled classes (every class a class refers to, also through a fully qualified name in
 * the code, but not an unused import nor a constant the compiler inlined) and the {@code import}
 * lines of the sources (but not a fully qualified name in the code).
 *
 * <p>Peers: {@code segment}, {@code propensity} and {@code recommend} import none of each other, so
 * no row allows it. The downward imports between stages that exist are propensity reading
 * {@code features.UserFeatures} and {@code ingest.ColumnNames}, and recommend reading
 * {@code features.FeaturesStage}; both are below them. Test code is not checked.
 */
class LayersTest {
  private static final String ROOT = "io.affinity";

  /** Package (relative to io.affinity; "" is io.affinity itself) -> the packages it may use. */
  private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
      Map.entry("config", Set.of()),
      Map.entry("io", Set.of("config")),
      Map.entry("pipeline", Set.of("config", "io")),
      Map.entry("ingest", Set.of("config", "io", "pipeline")),
      Map.entry("features", Set.of("config", "io", "pipeline", "ingest")),
      Map.entry("segment", Set.of("config", "io", "pipeline", "ingest", "features")),
      Map.entry("propensity", Set.of("config", "io", "pipeline", "ingest", "features")),
      Map.entry("recommend", Set.of("config", "io", "pipeline", "ingest", "features")),
      Map.entry("publish", Set.of("config", "io", "pipeline", "ingest", "features", "segment", "propensity",
          "recommend")),
      Map.entry("report", Set.of("config", "io", "pipeline", "ingest", "features", "segment", "propensity",
          "recommend", "publish")),
      Map.entry("", Set.of("config", "io", "pipeline", "ingest", "features", "segment", "propensity", "recommend",
          "publish", "report")),
      // Apart: the planted-data generator for samples and benchmarks; nothing in main uses it.
      Map.entry("sample", Set.of("config")));

  /** A class name in a constant pool entry or descriptor: io/affinity/[pkg/]Name. */
  private static final Pattern INTERNAL = Pattern.compile("io/affinity/(?:([a-z][a-z0-9_]*)/)?([A-Z][\\w$]*)");
  private static final Pattern IMPORT =
      Pattern.compile("^import\\s+(?:static\\s+)?io\\.affinity\\.(?:([a-z][a-z0-9_]*)\\.)?([A-Z][\\w.]*|\\*)\\s*;",
          Pattern.MULTILINE);

  @Test
  void compiledClassesOnlyUseTheLayersBelowThem() throws IOException, URISyntaxException {
    Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Set<String> violations = new TreeSet<>();
    int checked = 0;
    try (Stream<Path> files = Files.walk(classes.resolve("io/affinity"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
        String name = classes.relativize(f).toString().replace('\\', '/').replaceAll("\\.class$", "");
        String from = packageOf(name);
        checked++;
        try (InputStream in = Files.newInputStream(f)) {
          for (String ref : classNameStrings(in)) {
            Matcher m = INTERNAL.matcher(ref);
            while (m.find()) {
              String to = m.group(1) == null ? "" : m.group(1);
              check(name.replace('/', '.'), from, ROOT + (to.isEmpty() ? "" : "." + to) + "." + m.group(2), to,
                  "uses", violations);
            }
          }
        }
      }
    }
    assertTrue(checked > 50, "found the compiled classes under " + classes + " (" + checked + ")");
    assertTrue(violations.isEmpty(), "upward dependencies:\n" + String.join("\n", violations));
  }

  @Test
  void sourceImportsOnlyNameTheLayersBelowThem() throws IOException {
    Path sources = Path.of("src/main/java");
    Set<String> violations = new TreeSet<>();
    int checked = 0;
    try (Stream<Path> files = Files.walk(sources.resolve("io/affinity"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String name = sources.relativize(f).toString().replace('\\', '/').replaceAll("\\.java$", "");
        checked++;
        Matcher m = IMPORT.matcher(Files.readString(f));
        while (m.find()) {
          String to = m.group(1) == null ? "" : m.group(1);
          check(f.toString(), packageOf(name), ROOT + (to.isEmpty() ? "" : "." + to) + "." + m.group(2), to,
              "imports", violations);
        }
      }
    }
    assertTrue(checked > 50, "found the sources under " + sources.toAbsolutePath() + " (" + checked + ")");
    assertTrue(violations.isEmpty(), "upward imports:\n" + String.join("\n", violations));
  }

  /** Every layer in the table exists, so a renamed package cannot leave a stale row behind. */
  @Test
  void theTableNamesThePackagesThatExist() throws IOException {
    Set<String> packages = new TreeSet<>();
    try (Stream<Path> dirs = Files.list(Path.of("src/main/java/io/affinity"))) {
      dirs.filter(Files::isDirectory).forEach(d -> packages.add(d.getFileName().toString()));
    }
    packages.add("");
    assertEquals(new TreeSet<>(ALLOWED.keySet()), packages, "the rows of ALLOWED against src/main/java/io/affinity");
  }

  private static void check(String where, String from, String target, String to, String verb, Set<String> out) {
    if (to.equals(from)) {
      return;
    }
    Set<String> allowed = ALLOWED.get(from);
    if (allowed == null) {
      out.add(where + ": package '" + display(from) + "' is not in LayersTest.ALLOWED; add its row");
    } else if (!allowed.contains(to)) {
      out.add(where + " (" + display(from) + ") " + verb + " " + target + " (" + display(to) + "): "
          + display(from) + " may use only " + new TreeSet<>(allowed));
    }
  }

  private static String display(String pkg) {
    return pkg.isEmpty() ? ROOT : pkg;
  }

  /** "io/affinity/config/Settings$EventTypes" -> "config"; "io/affinity/Main" -> "". */
  private static String packageOf(String internalName) {
    String rest = internalName.substring("io/affinity/".length());
    int slash = rest.indexOf('/');
    return slash < 0 ? "" : rest.substring(0, slash);
  }

  /**
   * The UTF-8 constants of a class file that are not string literals: class names, descriptors and
   * generic signatures (JVMS 4.4). String literals are left out so that a message or a resource
   * path that happens to spell a class name is not a dependency.
   */
  private static List<String> classNameStrings(InputStream raw) throws IOException {
    DataInputStream in = new DataInputStream(raw);
    if (in.readInt() != 0xCAFEBABE) {
      throw new IOException("not a class file");
    }
    in.readUnsignedShort();
    in.readUnsignedShort();
    int count = in.readUnsignedShort();
    String[] utf8 = new String[count];
    BitSet literal = new BitSet(count);
    for (int i = 1; i < count; i++) {
      int tag = in.readUnsignedByte();
      switch (tag) {
        case 1 -> utf8[i] = in.readUTF();
        case 8 -> literal.set(in.readUnsignedShort());
        case 7, 16, 19, 20 -> in.readUnsignedShort();
        case 15 -> {
          in.readUnsignedByte();
          in.readUnsignedShort();
        }
        case 3, 4, 9, 10, 11, 12, 17, 18 -> in.readInt();
        case 5, 6 -> {
          in.readLong();
          i++; // a long or double takes two entries
        }
        default -> throw new IOException("unknown constant pool tag " + tag + " at entry " + i);
      }
    }
    List<String> out = new ArrayList<>();
    for (int i = 1; i < count; i++) {
      if (utf8[i] != null && !literal.get(i)) {
        out.add(utf8[i]);
      }
    }
    return out;
  }
}
