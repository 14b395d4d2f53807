package io.affinity.ingest;

import io.affinity.config.CsvFormat;
import io.affinity.config.SettingsException;
import io.affinity.io.MissingInputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;
import org.apache.hadoop.mapreduce.InputSplit;
import org.apache.hadoop.mapreduce.Job;
import org.apache.hadoop.mapreduce.lib.input.FileInputFormat;
import org.apache.hadoop.mapreduce.lib.input.FileSplit;
import org.apache.hadoop.mapreduce.lib.input.TextInputFormat;
import org.apache.spark.api.java.JavaNewHadoopRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.Tuple2;

/**
 * Reads one configured source into rows of provenance (file, line, byte offset, raw text, reason,
 * detail) plus the parser's typed columns. Good rows have a null reason; rejected rows keep their
 * raw text. Nothing is dropped: every record of every file becomes exactly one row.
 *
 * <p>Files are read as Hadoop text splits, so large files are parallel and {@code .gz} works.
 * Line numbers are exact for a split that starts a file (every file under the split size, 128 MB
 * by default); later splits of a big file report the byte offset only. A quoted field spanning
 * lines is joined within a split; one that crosses a split boundary is quarantined.
 */
final class SourceReader {
  static final String FILE = "source_file";
  static final String LINE = "line_number";
  static final String OFFSET = "byte_offset";
  static final String RAW = "raw";
  static final String REASON = "reason";
  static final String DETAIL = "detail";
  private static final int MAX_RAW_CHARS = 20_000;

  static final StructType PROVENANCE = new StructType()
      .add(FILE, DataTypes.StringType, false)
      .add(LINE, DataTypes.LongType, true)
      .add(OFFSET, DataTypes.LongType, false)
      .add(RAW, DataTypes.StringType, true)
      .add(REASON, DataTypes.StringType, true)
      .add(DETAIL, DataTypes.StringType, true);

  /** The result of reading one source. */
  record Read(Dataset<Row> rows, List<String> files, List<String> emptyFiles) {}

  /** Per-file column positions, resolved from that file's header or the configured names. */
  record Layout(int[] positions, int columnCount) implements Serializable {}

  private SourceReader() {}

  static Read read(SparkSession spark, CsvFormat csv, RowParser parser) {
    Configuration hadoop = spark.sparkContext().hadoopConfiguration();
    List<FileStatus> files = listFiles(hadoop, csv);
    Map<String, Layout> layouts = new HashMap<>();
    List<Path> nonEmpty = new ArrayList<>();
    List<String> names = new ArrayList<>();
    List<String> empty = new ArrayList<>();
    for (FileStatus st : files) {
      String p = st.getPath().toString();
      names.add(p);
      checkReadable(hadoop, st.getPath(), csv);
      if (st.getLen() == 0) {
        empty.add(p);
        continue;
      }
      List<String> header = csv.header() ? readHeader(hadoop, st.getPath(), csv) : csv.names();
      if (header == null) {
        empty.add(p);
        continue;
      }
      layouts.put(p, layout(csv, parser, header, p));
      nonEmpty.add(st.getPath());
    }
    StructType schema = merge(PROVENANCE, parser.schema());
    if (nonEmpty.isEmpty()) {
      return new Read(spark.createDataFrame(new ArrayList<Row>(), schema), names, empty);
    }
    JavaRDD<Row> rows;
    try {
      Job job = Job.getInstance(new Configuration(hadoop));
      FileInputFormat.setInputPaths(job, nonEmpty.toArray(new Path[0]));
      JavaNewHadoopRDD<LongWritable, Text> text = (JavaNewHadoopRDD<LongWritable, Text>)
          JavaSparkContext.fromSparkContext(spark.sparkContext())
              .newAPIHadoopRDD(job.getConfiguration(), TextInputFormat.class, LongWritable.class, Text.class);
      rows = text.mapPartitionsWithInputSplit(new PartitionParser(csv, parser, layouts), false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + csv.source() + " input " + csv.path(), e);
    }
    return new Read(spark.createDataFrame(rows, schema), names, empty);
  }

  static StructType merge(StructType a, StructType b) {
    List<StructField> all = new ArrayList<>(List.of(a.fields()));
    for (StructField f : b.fields()) {
      all.add(f.copy(f.name(), f.dataType(), true, f.metadata())); // null in rejected rows
    }
    return new StructType(all.toArray(new StructField[0]));
  }

  private static List<FileStatus> listFiles(Configuration hadoop, CsvFormat csv) {
    Path pattern = new Path(csv.path());
    List<FileStatus> out = new ArrayList<>();
    try {
      FileSystem fs = pattern.getFileSystem(hadoop);
      FileStatus[] matched = fs.globStatus(pattern);
      if (matched != null) {
        for (FileStatus st : matched) {
          if (st.isDirectory()) {
            RemoteIterator<LocatedFileStatus> it = fs.listFiles(st.getPath(), true);
            while (it.hasNext()) {
              LocatedFileStatus f = it.next();
              if (!hidden(f.getPath())) {
                out.add(f);
              }
            }
          } else {
            out.add(st);
          }
        }
      }
      if ("file".equals(fs.getUri().getScheme())) {
        checkNoDanglingLinks(fs, pattern, csv);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + csv.source() + " input " + csv.path(), e);
    }
    if (out.isEmpty()) {
      throw new MissingInputException("input " + csv.source() + ": no file matches '" + csv.path()
          + "' (" + csv.keyPrefix() + ".path); check the path or glob");
    }
    out.sort((x, y) -> x.getPath().toString().compareTo(y.getPath().toString()));
    return out;
  }

  /**
   * Hadoop's local file system leaves out of a listing every entry whose status it cannot read, so
   * a link whose target is gone would be skipped without a word: on local paths the directories the
   * glob reaches are listed again with java.nio, and a dangling link among the matches (or below a
   * matched directory) stops the run naming it.
   */
  private static void checkNoDanglingLinks(FileSystem fs, Path pattern, CsvFormat csv) throws IOException {
    FileStatus[] parents = pattern.getParent() == null ? null : fs.globStatus(pattern.getParent());
    if (parents == null) {
      return;
    }
    org.apache.hadoop.fs.GlobPattern name = new org.apache.hadoop.fs.GlobPattern(pattern.getName());
    for (FileStatus parent : parents) {
      java.nio.file.Path dir = java.nio.file.Paths.get(parent.getPath().toUri());
      if (!java.nio.file.Files.isDirectory(dir)) {
        continue;
      }
      try (java.util.stream.Stream<java.nio.file.Path> entries = java.nio.file.Files.list(dir)) {
        for (java.nio.file.Path e : (Iterable<java.nio.file.Path>) entries::iterator) {
          if (!name.matches(e.getFileName().toString())) {
            continue;
          }
          try (java.util.stream.Stream<java.nio.file.Path> below = java.nio.file.Files.walk(e)) {
            for (java.nio.file.Path f : (Iterable<java.nio.file.Path>) below::iterator) {
              if (java.nio.file.Files.isSymbolicLink(f) && !java.nio.file.Files.exists(f) && !hidden(new Path(f.toUri()))) {
                throw new SettingsException(csv.keyPrefix() + ".path", "input " + csv.source() + ": file " + f
                    + " is matched by '" + csv.path() + "' but cannot be read: it is a link to "
                    + java.nio.file.Files.readSymbolicLink(f) + ", which does not exist; fix the link or the path");
              }
            }
          }
        }
      }
    }
  }

  /**
   * Opens the file and reads its first byte: a file the glob lists but that cannot be read (a
   * dangling link, no read permission) stops the run naming it, instead of being taken for an
   * empty file or failing later inside a Spark task.
   */
  private static void checkReadable(Configuration hadoop, Path path, CsvFormat csv) {
    try (InputStream in = path.getFileSystem(hadoop).open(path)) {
      in.read();
    } catch (IOException e) {
      throw new SettingsException(csv.keyPrefix() + ".path", "input " + csv.source() + ": file " + path
          + " is listed by '" + csv.path() + "' but cannot be read (" + e.getClass().getSimpleName() + ": "
          + e.getMessage() + "); a dangling link or missing read permission? Fix the file or the path");
    }
  }

  /** Rejects a UTF-16 file (its byte-order mark FF FE or FE FF) with a message instead of garbled column names. */
  private static void checkNotUtf16(InputStream in, Path path, CsvFormat csv) throws IOException {
    in.mark(2);
    int a = in.read();
    int b = in.read();
    in.reset();
    boolean le = a == 0xFF && b == 0xFE;
    if (le || a == 0xFE && b == 0xFF) {
      throw new SettingsException(csv.keyPrefix() + ".encoding", "file " + path + " is UTF-16 (" + (le ? "little" : "big")
          + "-endian byte-order mark " + (le ? "FF FE" : "FE FF") + ") but " + csv.keyPrefix() + ".encoding is "
          + csv.encoding() + "; lines are split on the byte '\\n', so only ASCII-compatible encodings can be read:"
          + " convert the file to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8) and keep " + csv.keyPrefix() + ".encoding = UTF-8");
    }
  }

  private static boolean hidden(Path p) {
    String n = p.getName();
    return n.startsWith("_") || n.startsWith(".");
  }

  /** The first line of a file split into column names, or null when the file has no line at all. */
  private static List<String> readHeader(Configuration hadoop, Path path, CsvFormat csv) {
    try {
      FileSystem fs = path.getFileSystem(hadoop);
      CompressionCodec codec = new CompressionCodecFactory(hadoop).getCodec(path);
      try (InputStream raw = fs.open(path);
           InputStream in = new java.io.BufferedInputStream(codec == null ? raw : codec.createInputStream(raw));
           BufferedReader r = new BufferedReader(new InputStreamReader(in, Charset.forName(csv.encoding())))) {
        checkNotUtf16(in, path, csv);
        String line = r.readLine();
        if (line == null) {
          return null;
        }
        line = stripBom(line);
        if (line.isBlank()) {
          return null; // e.g. only a byte-order mark: what spreadsheets save for an empty sheet
        }
        List<String> cols;
        try {
          cols = new CsvTokenizer(csv.delimiter(), csv.quoteChar()).split(line);
        } catch (Reject e) {
          throw new SettingsException(csv.keyPrefix() + ".header", "header of " + path + " cannot be read: " + e.getMessage());
        }
        List<String> trimmed = new ArrayList<>();
        for (String c : cols) {
          trimmed.add(c.trim());
        }
        return trimmed;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the header of " + path, e);
    }
  }

  static String stripBom(String s) {
    return !s.isEmpty() && s.charAt(0) == '\uFEFF' ? s.substring(1) : s;
  }

  /** Positions of the parser's columns in a file whose columns are {@code header}. */
  static Layout layout(CsvFormat csv, RowParser parser, List<String> header, String file) {
    int[] pos = new int[parser.columns().size()];
    for (int k = 0; k < pos.length; k++) {
      RowParser.Column c = parser.columns().get(k);
      if (c.name() == null) {
        pos[k] = -1;
        continue;
      }
      int i = header.indexOf(c.name());
      if (i < 0) {
        for (int j = 0; j < header.size(); j++) {
          if (header.get(j).equalsIgnoreCase(c.name())) {
            i = j;
            break;
          }
        }
      }
      if (i < 0) {
        throw new SettingsException(c.key(), c.name(), "names a column that " + (csv.header() ? "the header of " + file
            + " does not have; its columns are " + header : "is not in " + csv.keyPrefix() + ".names " + header));
      }
      for (int j = 0; j < header.size(); j++) {
        if (j != i && header.get(j).equalsIgnoreCase(header.get(i))) {
          int a = Math.min(i, j);
          int b = Math.max(i, j);
          throw new SettingsException(c.key(), c.name(), "names a column that " + (csv.header() ? "the header of " + file
              : csv.keyPrefix() + ".names") + " has twice: '" + header.get(a) + "' is column " + (a + 1) + " and '"
              + header.get(b) + "' column " + (b + 1) + "; which one holds the " + c.field() + " is ambiguous: rename one");
        }
      }
      pos[k] = i;
    }
    return new Layout(pos, header.size());
  }

  /** One physical line of a split. */
  private record Line(long offset, Long number, String text, boolean badEncoding) {}

  /** Parses one Hadoop split: joins quoted multi-line records, checks columns, calls the row parser. */
  private static final class PartitionParser
      implements Function2<InputSplit, Iterator<Tuple2<LongWritable, Text>>, Iterator<Row>> {
    private final CsvFormat csv;
    private final RowParser parser;
    private final Map<String, Layout> layouts;

    PartitionParser(CsvFormat csv, RowParser parser, Map<String, Layout> layouts) {
      this.csv = csv;
      this.parser = parser;
      this.layouts = layouts;
    }

    @Override
    public Iterator<Row> call(InputSplit split, Iterator<Tuple2<LongWritable, Text>> input) {
      FileSplit fs = (FileSplit) split;
      String file = fs.getPath().toString();
      Layout layout = layouts.get(file);
      if (layout == null) {
        throw new IllegalStateException("no layout resolved for " + file);
      }
      return new Records(file, fs.getStart() == 0, layout, input);
    }

    private final class Records implements Iterator<Row> {
      private final String file;
      private final boolean fileStart;
      private final Layout layout;
      private final Iterator<Tuple2<LongWritable, Text>> input;
      private final Deque<Line> pending = new ArrayDeque<>();
      private final CsvTokenizer tokenizer = new CsvTokenizer(csv.delimiter(), csv.quoteChar());
      private final CharsetDecoder decoder;
      private final Charset charset;
      private long lineNumber;
      private final int width = PROVENANCE.size() + parser.schema().size();

      Records(String file, boolean fileStart, Layout layout, Iterator<Tuple2<LongWritable, Text>> input) {
        this.file = file;
        this.fileStart = fileStart;
        this.layout = layout;
        this.input = input;
        this.charset = Charset.forName(csv.encoding());
        this.decoder = charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
        if (fileStart && csv.header() && input.hasNext()) {
          read(); // the header line: resolved on the driver, not data
        }
      }

      private Line read() {
        Tuple2<LongWritable, Text> t = input.next();
        Text text = t._2();
        long offset = t._1().get();
        String s;
        boolean bad = false;
        try {
          s = decoder.decode(ByteBuffer.wrap(text.getBytes(), 0, text.getLength())).toString();
        } catch (CharacterCodingException e) {
          s = new String(text.getBytes(), 0, text.getLength(), charset);
          bad = true;
        }
        lineNumber++;
        if (fileStart && offset == 0) {
          s = stripBom(s);
        }
        return new Line(offset, fileStart ? lineNumber : null, s, bad);
      }

      private Line nextLine() {
        if (!pending.isEmpty()) {
          return pending.poll();
        }
        return input.hasNext() ? read() : null;
      }

      @Override
      public boolean hasNext() {
        return !pending.isEmpty() || input.hasNext();
      }

      @Override
      public Row next() {
        Line first = nextLine();
        if (first == null) {
          throw new NoSuchElementException();
        }
        if (first.badEncoding()) {
          return reject(first, first.text(), ReasonCode.MALFORMED_LINE,
              "bytes that are not valid " + csv.encoding() + " (set " + csv.keyPrefix() + ".encoding)");
        }
        if (first.text().isBlank()) {
          return reject(first, first.text(), ReasonCode.MALFORMED_LINE, "blank line");
        }
        List<Line> used = new ArrayList<>();
        used.add(first);
        String record = first.text();
        List<String> fields;
        while (true) {
          try {
            fields = tokenizer.split(record);
          } catch (Reject r) {
            if (used.size() > 1) {
              return unterminated(first, used, null, "its closing quote on line " + (first.number() == null ? "+"
                  + (used.size() - 1) : first.number() + used.size() - 1) + " is followed by text");
            }
            return reject(first, record, r.reason, r.getMessage());
          }
          if (fields != CsvTokenizer.NEEDS_MORE) {
            break;
          }
          Line more = used.size() < csv.maxLinesPerRecord() ? nextLine() : null;
          if (more == null || more.badEncoding()) {
            return unterminated(first, used, more, "no closing " + csv.quote() + " within " + csv.maxLinesPerRecord()
                + " lines" + (more == null && used.size() < csv.maxLinesPerRecord() ? " before the end of the file" : ""));
          }
          used.add(more);
          record = record + "\n" + more.text();
        }
        if (fields.size() != layout.columnCount()) {
          if (used.size() > 1) {
            return unterminated(first, used, null, "joining " + used.size() + " lines gives " + fields.size()
                + " columns instead of " + layout.columnCount());
          }
          return reject(first, record, ReasonCode.MALFORMED_LINE, "expected " + layout.columnCount()
              + " columns separated by '" + csv.delimiter() + "', found " + fields.size());
        }
        String[] values = new String[layout.positions().length];
        for (int k = 0; k < values.length; k++) {
          int p = layout.positions()[k];
          values[k] = p < 0 ? null : fields.get(p);
        }
        try {
          Object[] typed = parser.parse(new RowParser.Fields(values, parser.columns()));
          Object[] row = new Object[width];
          row[0] = file;
          row[1] = first.number();
          row[2] = first.offset();
          System.arraycopy(typed, 0, row, PROVENANCE.size(), typed.length);
          return RowFactory.create(row);
        } catch (Reject r) {
          return reject(first, record, r.reason, r.getMessage());
        }
      }

      /**
       * A quote opened on {@code first} did not give a clean multi-line record. Only the first line
       * is rejected; the lines read ahead go back to the queue, so one stray quote never swallows
       * the good rows after it.
       */
      private Row unterminated(Line first, List<Line> used, Line extra, String why) {
        for (int i = used.size() - 1; i >= 1; i--) {
          pending.addFirst(used.get(i));
        }
        if (extra != null) {
          pending.addLast(extra);
        }
        return reject(first, first.text(), ReasonCode.MALFORMED_LINE, "unterminated quote (" + why + ")");
      }

      private Row reject(Line first, String raw, ReasonCode reason, String detail) {
        Object[] row = new Object[width];
        row[0] = file;
        row[1] = first.number();
        row[2] = first.offset();
        row[3] = raw.length() > MAX_RAW_CHARS ? raw.substring(0, MAX_RAW_CHARS) + "...(truncated)" : raw;
        row[4] = reason.name();
        row[5] = detail;
        return RowFactory.create(row);
      }
    }
  }
}
