package io.affinity.ingest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.affinity.testing.SparkTestBase;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input corpus of the {@code ingest} stage: one small golden file per defect that real
 * exports have, each run through the real command line ({@code ingest --run-date 2026-11-20}).
 *
 * <p>Covered: byte-order mark, CRLF, quoted delimiters and doubled quotes, newlines inside quotes,
 * unterminated quotes and text after a closing quote, empty and header-only files, a missing path
 * and a glob matching nothing, a header without a configured column, wrong column counts, blank
 * lines, impossible and calendar-invalid timestamps, daylight-saving gaps and overlaps, epoch
 * seconds and millis (and millis read as seconds), unicode and float-suffixed ids, huge and
 * non-finite numbers, negative and zero quantities, negative prices, unknown, aliased and
 * mixed-case event types, future timestamps, rows after the run date, a column named twice, a
 * dangling link, UTF-16 files, missing required fields, exact and key duplicates,
 * the MovieLens {@code ::} ratings layout, the Online Retail invoice layout, latin-1 bytes read as
 * UTF-8 and as ISO-8859-1, the data-quality gate, and gzip input.
 *
 * <p>Every case asserts the exit code; the exact quarantine rows (source, file, line, reason, the
 * original text in {@code raw}, the column named in {@code detail}); the manifest counts with
 * read = clean + quarantined + duplicates; and that the clean output holds manifest-clean rows.
 * Error cases assert that stderr names the key or file in a sentence, not a stack trace.
 *
 * <p>Golden files are in {@code src/test/resources/BadInputCorpusTest/} as exact bytes (their
 * {@code .gitattributes} stops git from rewriting line endings); only the gzip input is made here.
 * Expected numbers are worked out by hand from those files and written in the case table.
 */
class BadInputCorpusTest extends SparkTestBase {
  private static final String RUN_DATE = "2026-11-20";
  private static final String EVENTS = "events";
  private static final String RATINGS = "ratings";
  private static final String TOLERANT = "-Daffinity.ingest.max-reject-share=1.0";
  private static final ObjectMapper JSON = new ObjectMapper();

  // ---------------------------------------------------------------------------------------------
  // The case table. Line numbers count the header as line 1 and are those of the first physical
  // line of a record.
  // ---------------------------------------------------------------------------------------------

  static Stream<Case> corpus() {
    return Stream.of(
        // Excel "CSV UTF-8" export: EF BB BF before the header must not become part of "user_id".
        events("bom_header.csv").counts(EVENTS, 3, 3, 0)
            .then(o -> {
              assertEquals((byte) 0xEF, Files.readAllBytes(resource("bom_header.csv"))[0], "golden file lost its BOM");
              assertEquals(List.of("u1", "u2", "u3"), o.sorted(EVENTS, "user_id"));
            }),

        // Windows export with CRLF line ends: no '\r' may stick to the last column.
        events("crlf.csv").counts(EVENTS, 3, 3, 0)
            .then(o -> {
              assertTrue(new String(Files.readAllBytes(resource("crlf.csv")), StandardCharsets.UTF_8).contains("\r\n"),
                  "golden file lost its CRLF line ends");
              assertEquals(List.of("s1", "s2", "s3"), o.sorted(EVENTS, "session_id"));
            }),

        // Spreadsheet export quoting a value with a comma, and a doubled quote inside quotes.
        events("quoted_delimiter.csv").counts(EVENTS, 2, 2, 0)
            .then(o -> {
              assertEquals("s1,part2", o.row(EVENTS, "user_id", "u1").getAs("session_id"));
              assertEquals("i2 \"deluxe\"", o.row(EVENTS, "user_id", "u2").getAs("item_id"));
            }),

        // Free-text field with an embedded line break: one record over two physical lines; a
        // rejected one reports the line number of its first line and its raw text spans both.
        events("newline_in_quotes.csv").with(TOLERANT).counts(EVENTS, 4, 3, 1)
            .reject(5, ReasonCode.UNKNOWN_EVENT_TYPE, "'event_type'")
            .raw("u3,i3,teleport,2026-11-01 12:00:00,1,9.99,\"also\nmulti\"")
            .then(o -> {
              assertEquals("multi\nline", o.row(EVENTS, "user_id", "u2").getAs("session_id"));
              assertEquals(List.of("u1", "u2", "u4"), o.sorted(EVENTS, "user_id"));
            }),

        // Truncated export: a quote opened and never closed; the lines after it must survive.
        events("unterminated_quote.csv").with(TOLERANT).counts(EVENTS, 4, 3, 1)
            .reject(3, ReasonCode.MALFORMED_LINE, "unterminated quote")
            .then(o -> assertEquals(List.of("u1", "u3", "u4"), o.sorted(EVENTS, "user_id"))),

        // Hand-edited file: text after a closing quote ("s2"x).
        events("text_after_quote.csv").with(TOLERANT).counts(EVENTS, 3, 2, 1)
            .reject(3, ReasonCode.MALFORMED_LINE, "after closing quote"),

        // Export job that crashed before writing anything: zero bytes. Nothing is published, and
        // the manifest records that nothing was read.
        events("empty.csv").counts(EVENTS, 0, -1, 0)
            .fails(3, "empty.csv", "empty or header-only", "affinity.input.events.path"),

        // Export of an empty table: the header and nothing else.
        events("header_only.csv").counts(EVENTS, 0, -1, 0)
            .fails(3, "header_only.csv", "empty or header-only", "affinity.input.events.path"),

        // Typo in the path, or yesterday's file not delivered.
        events("(missing file)").path(tmp -> tmp.resolve("no-such-export.csv").toString())
            .fails(2, "no-such-export.csv", "no file matches", "affinity.input.events.path", "check the path or glob"),

        // Glob over a delivery folder that holds no CSV today.
        events("(glob matching nothing)").path(tmp -> {
          Path dir = Files.createDirectories(tmp.resolve("delivery"));
          Files.writeString(dir.resolve("README.txt"), "nothing delivered\n");
          return dir.resolve("*.csv").toString();
        }).fails(2, "delivery/*.csv", "no file matches", "affinity.input.events.path"),

        // Source system renamed user_id to customer.
        events("header_missing_column.csv")
            .fails(2, "affinity.input.events.columns.user", "\"user_id\"", "header_missing_column.csv",
                "[customer, item_id, event_type, event_time, quantity, price, session_id]"),

        // Rows with a field missing and one extra field (unescaped comma in some value).
        events("column_count.csv").with(TOLERANT).counts(EVENTS, 4, 2, 2)
            .reject(3, ReasonCode.MALFORMED_LINE, "expected 7 columns separated by ',', found 6")
            .reject(4, ReasonCode.MALFORMED_LINE, "expected 7 columns separated by ',', found 8"),

        // Concatenated exports leaving an empty line in the middle.
        events("blank_line.csv").with(TOLERANT).counts(EVENTS, 3, 2, 1)
            .reject(3, ReasonCode.MALFORMED_LINE, "blank line"),

        // Corrupt dates: month 13 / day 45, and 30 February from a generator that rolls days without
        // a calendar (strict parsing rejects it; the leap day 2024-02-29 is fine); plus one ISO value
        // in a file declared with a pattern.
        events("bad_timestamp.csv").with(TOLERANT).counts(EVENTS, 5, 2, 3)
            .reject(3, ReasonCode.BAD_TIMESTAMP, "'event_time' = \"2026-13-45 10:00:00\"")
            .reject(4, ReasonCode.BAD_TIMESTAMP, "'event_time' = \"2026-02-30 10:00:00\"")
            .reject(6, ReasonCode.BAD_TIMESTAMP, "'event_time' = \"2026-11-01T12:00:00Z\"")
            .then(o -> {
              assertEquals(Instant.parse("2026-02-28T10:00:00Z"), o.time(EVENTS, "user_id", "u1"));
              assertEquals(Instant.parse("2024-02-29T10:00:00Z"), o.time(EVENTS, "user_id", "u4"));
            }),

        // Shop log in Berlin wall-clock time: 02:30 on 29 March 2026 never happened.
        events("dst_gap_berlin.csv").with(TOLERANT, "-Daffinity.input.events.timestamp.zone=Europe/Berlin")
            .counts(EVENTS, 3, 2, 1)
            .reject(3, ReasonCode.BAD_TIMESTAMP, "daylight-saving gap")
            .then(o -> {
              assertEquals(Instant.parse("2026-03-29T00:59:59Z"), o.time(EVENTS, "user_id", "u1"));
              assertEquals(Instant.parse("2026-03-29T01:00:00Z"), o.time(EVENTS, "user_id", "u3"));
            }),

        // Same log on 25 October 2026: 02:30 happened twice; the earlier offset (+02:00) is taken.
        events("dst_overlap_berlin.csv").with("-Daffinity.input.events.timestamp.zone=Europe/Berlin")
            .counts(EVENTS, 2, 2, 0)
            .then(o -> {
              assertEquals(Instant.parse("2026-10-25T00:30:00Z"), o.time(EVENTS, "user_id", "u1"));
              assertEquals(Instant.parse("2026-11-01T09:00:00Z"), o.time(EVENTS, "user_id", "u2"));
            }),

        // Unix-time tracker export (seconds, some with a fraction) with one millisecond value mixed
        // in: read as seconds it lands after year 9999.
        events("epoch_seconds.csv").with(TOLERANT, "-Daffinity.input.events.timestamp.format=epoch-seconds")
            .counts(EVENTS, 3, 2, 1)
            .reject(4, ReasonCode.BAD_TIMESTAMP, "out of the representable range")
            .then(o -> {
              assertEquals(Instant.parse("2025-11-20T00:53:20Z"), o.time(EVENTS, "user_id", "u1"));
              assertEquals(Instant.parse("2025-11-20T00:53:20.500Z"), o.time(EVENTS, "user_id", "u2"));
            }),

        // JavaScript tracker export in epoch milliseconds.
        events("epoch_millis.csv").with("-Daffinity.input.events.timestamp.format=epoch-millis")
            .counts(EVENTS, 2, 2, 0)
            .then(o -> {
              assertEquals(Instant.parse("2025-11-20T00:53:20.123Z"), o.time(EVENTS, "user_id", "u1"));
              assertEquals(Instant.parse("2025-11-20T00:53:20.456Z"), o.time(EVENTS, "user_id", "u2"));
            }),

        // The same export where one value was written in seconds: read as millis it lands in
        // January 1970, before affinity.ingest.min-event-date, so it is caught instead of kept.
        events("epoch_millis_with_seconds.csv").with(TOLERANT, "-Daffinity.input.events.timestamp.format=epoch-millis")
            .counts(EVENTS, 2, 1, 1)
            .reject(3, ReasonCode.OUT_OF_RANGE, "min-event-date"),

        // International shop: Polish and CJK ids, an emoji, and "café" both decomposed (NFD) and
        // composed (NFC). Ids are kept byte for byte: two different cafés, no normalisation.
        events("unicode_ids.csv").counts(EVENTS, 3, 3, 0)
            .then(o -> {
              assertEquals("商品-42", o.row(EVENTS, "user_id", "użytkownik-1").getAs("item_id"));
              assertArrayEquals("cafe\u0301".getBytes(StandardCharsets.UTF_8),
                  o.row(EVENTS, "user_id", "u\uD83D\uDED22").<String>getAs("item_id").getBytes(StandardCharsets.UTF_8));
              assertArrayEquals("caf\u00e9".getBytes(StandardCharsets.UTF_8),
                  o.row(EVENTS, "user_id", "u3").<String>getAs("item_id").getBytes(StandardCharsets.UTF_8));
            }),

        // pandas/Excel round trip that wrote integer ids as floats: 17850.0 is customer 17850;
        // 12.50 and A12.0 are not integers written as floats and stay as they are.
        events("float_suffix_ids.csv").counts(EVENTS, 3, 3, 0)
            .then(o -> {
              assertEquals(List.of("12.50", "17850", "17850"), o.sorted(EVENTS, "user_id"));
              assertEquals(List.of("85123", "85123", "A12.0"), o.sorted(EVENTS, "item_id"));
            }),

        // Overflowed spreadsheet cells: a quantity of 1e12 and a price of 1e400 (infinite as a double).
        events("huge_numbers.csv").with(TOLERANT).counts(EVENTS, 3, 1, 2)
            .reject(3, ReasonCode.OUT_OF_RANGE, "'quantity' = \"1e12\"")
            .reject(4, ReasonCode.BAD_NUMBER, "'price' = \"1e400\": not a finite number"),

        // pandas writing missing prices as NaN (and a division by zero as Infinity).
        events("nan_price.csv").with(TOLERANT).counts(EVENTS, 3, 1, 2)
            .reject(3, ReasonCode.BAD_NUMBER, "'price' = \"NaN\"")
            .reject(4, ReasonCode.BAD_NUMBER, "'price' = \"Infinity\""),

        // Order system logging a refund as a purchase with a negative quantity: kept as a return.
        events("negative_quantity.csv").counts(EVENTS, 2, 2, 0)
            .then(o -> {
              Row refund = o.row(EVENTS, "session_id", "s2");
              assertEquals("return", refund.getAs("event_type"));
              assertEquals(2, (int) refund.<Integer>getAs("quantity"));
              assertEquals("purchase", o.row(EVENTS, "session_id", "s1").getAs("event_type"));
            }),

        // The same refund log where the business says negative quantities are errors.
        events("negative_quantity.csv")
            .with(TOLERANT, "-Daffinity.input.events.cancellation.negative-quantity=false")
            .counts(EVENTS, 2, 1, 1)
            .reject(3, ReasonCode.OUT_OF_RANGE, "'quantity' = \"-2\""),

        // POS placeholder line with quantity 0.
        events("zero_quantity.csv").with(TOLERANT).counts(EVENTS, 2, 1, 1)
            .reject(3, ReasonCode.OUT_OF_RANGE, "'quantity' = \"0\""),

        // Price column holding a credit note amount.
        events("negative_price.csv").with(TOLERANT).counts(EVENTS, 2, 1, 1)
            .reject(3, ReasonCode.OUT_OF_RANGE, "'price' = \"-9.99\""),

        // Tracker sending a new event name nobody configured (and "pv" without its alias).
        events("unknown_event_type.csv").with(TOLERANT).counts(EVENTS, 3, 1, 2)
            .reject(3, ReasonCode.UNKNOWN_EVENT_TYPE, "'event_type' = \"teleport\"")
            .reject(4, ReasonCode.UNKNOWN_EVENT_TYPE, "'event_type' = \"pv\""),

        // Web analytics export with "pv" (any case) for page views, mapped by an alias.
        events("alias_pv.csv").with("-Daffinity.event-types.aliases.pv=view").counts(EVENTS, 3, 3, 0)
            .then(o -> assertEquals(List.of("view", "view", "view"), o.sorted(EVENTS, "event_type"))),

        // Legacy system writing event types in upper or title case, with stray spaces.
        events("mixed_case_type.csv").counts(EVENTS, 3, 3, 0)
            .then(o -> assertEquals(List.of("purchase", "purchase", "view"), o.sorted(EVENTS, "event_type"))),

        // Clock-skewed servers: up to 24 h after the run date is clean for the date; later than that
        // is after_run_date (out of scope, not a reject); later than the time of ingest plus 24 h
        // cannot have happened yet and is quarantined.
        events("future_timestamp.csv").with(TOLERANT).counts(EVENTS, 4, 2, 1).after(EVENTS, 1)
            .reject(5, ReasonCode.FUTURE_TIMESTAMP, "in the future, later than the time of ingest")
            .then(o -> assertEquals(List.of("u1", "u2"), o.sorted(EVENTS, "user_id"))),

        // Backfill of an earlier date from a file that also holds later days: those rows are counted
        // apart, stay out of the reject share (default 5 % gate, no failure) and out of clean.
        events("after_run_date.csv").counts(EVENTS, 5, 2, 0).after(EVENTS, 3)
            .then(o -> assertEquals(List.of("u1", "u2"), o.sorted(EVENTS, "user_id"))),

        // The same with no clock-skew allowance: the row 30 minutes past the run date is after_run_date too.
        events("after_run_date.csv").with("-Daffinity.ingest.future-tolerance-hours=0").counts(EVENTS, 5, 1, 0).after(EVENTS, 4)
            .then(o -> assertEquals(List.of("u1"), o.sorted(EVENTS, "user_id"))),

        // A run date before any data (a backfill date typed wrong): nothing is in scope, so no
        // later stage would have a user to model; exit 3 naming the date, not a crash in segment.
        events("all_after_run_date.csv").counts(EVENTS, 3, -1, 0)
            .fails(3, "has no rows on or before run_date=2026-11-20", "all 3 rows are later", "--run-date"),

        // An export that repeats a column (session_id renamed to User_ID by a spreadsheet): which one
        // is the user is ambiguous, so the run stops naming the column.
        events("header_duplicate_column.csv")
            .fails(2, "affinity.input.events.columns.user", "has twice", "'user_id' is column 1 and 'User_ID' column 7",
                "header_duplicate_column.csv"),

        // A delivery folder holding a link whose target was removed: fail naming it, never skip it.
        events("(dangling link)").path(tmp -> {
          Path dir = Files.createDirectories(tmp.resolve("drop"));
          Files.copy(resource("crlf.csv"), dir.resolve("a.csv"));
          Files.createSymbolicLink(dir.resolve("b.csv"), tmp.resolve("removed-target.csv"));
          return dir.resolve("*.csv").toString();
        }).fails(2, "affinity.input.events.path", "b.csv", "cannot be read"),

        // Windows "Unicode text" export (UTF-16 little-endian with FF FE) and a big-endian one.
        events("(UTF-16LE)").path(tmp -> utf16(tmp, "utf16le.csv", StandardCharsets.UTF_16LE, (byte) 0xFF, (byte) 0xFE))
            .fails(2, "utf16le.csv is UTF-16", "FF FE", "affinity.input.events.encoding", "convert the file to UTF-8"),
        events("(UTF-16BE)").path(tmp -> utf16(tmp, "utf16be.csv", StandardCharsets.UTF_16BE, (byte) 0xFE, (byte) 0xFF))
            .fails(2, "utf16be.csv is UTF-16", "FE FF", "affinity.input.events.encoding"),

        // Anonymous sessions and broken joins: empty user, item, time, blank user, empty type.
        events("missing_fields.csv").with(TOLERANT).counts(EVENTS, 6, 1, 5)
            .reject(3, ReasonCode.MISSING_FIELD, "'user_id'")
            .reject(4, ReasonCode.MISSING_FIELD, "'item_id'")
            .reject(5, ReasonCode.MISSING_FIELD, "'event_time'")
            .reject(6, ReasonCode.MISSING_FIELD, "'user_id'")
            .reject(7, ReasonCode.MISSING_FIELD, "'event_type'"),

        // At-least-once delivery replaying the same row twice.
        events("duplicates_exact.csv").counts(EVENTS, 3, 2, 0, 1, 0),

        // The same click logged by two sessions: same user, item, type and time; the first wins.
        events("duplicates_key.csv").counts(EVENTS, 3, 2, 0, 0, 1)
            .then(o -> assertEquals(List.of("s1", "s2"), o.sorted(EVENTS, "session_id"))),

        // MovieLens 1M ratings.dat: "::" delimiter, no header, a 6 and a 0.5 off the 1..5 scale.
        events("events_baseline.csv")
            .ratings("movielens_ratings.dat", "-Daffinity.input.ratings.delimiter=::",
                "-Daffinity.input.ratings.header=false", "-Daffinity.input.ratings.names=[user_id,item_id,rating,timestamp]")
            .with(TOLERANT)
            .counts(EVENTS, 3, 3, 0).counts(RATINGS, 5, 3, 2)
            .reject(RATINGS, 3, ReasonCode.OUT_OF_RANGE, "'rating' = \"6\": outside the rating scale 1.0..5.0")
            .reject(RATINGS, 4, ReasonCode.OUT_OF_RANGE, "'rating' = \"0.5\"")
            .then(o -> {
              Row r = o.row(RATINGS, "item_id", "1193");
              assertEquals("1", r.getAs("user_id"));
              assertEquals(5.0, r.<Double>getAs("rating"));
              assertEquals(Instant.ofEpochSecond(978300760), r.<java.sql.Timestamp>getAs("event_time").toInstant());
            }),

        // UCI Online Retail: purchase-only invoice lines, US dates, a missing CustomerID, a
        // float-written CustomerID and a cancellation invoice C536379.
        events("online_retail.csv")
            .with(TOLERANT,
                "-Daffinity.input.events.columns.user=CustomerID",
                "-Daffinity.input.events.columns.item=StockCode",
                "-Daffinity.input.events.columns.event-type=\"\"",
                "-Daffinity.input.events.columns.timestamp=InvoiceDate",
                "-Daffinity.input.events.columns.quantity=Quantity",
                "-Daffinity.input.events.columns.price=UnitPrice",
                "-Daffinity.input.events.columns.session=InvoiceNo",
                "-Daffinity.input.events.columns.invoice=InvoiceNo",
                "-Daffinity.input.events.columns.description=Description",
                "-Daffinity.input.events.fixed-event-type=purchase",
                "-Daffinity.input.events.cancellation.invoice-prefix=C",
                "-Daffinity.input.events.timestamp.format=\"M/d/yyyy H:mm\"")
            .counts(EVENTS, 6, 5, 1)
            .reject(5, ReasonCode.MISSING_FIELD, "'CustomerID'")
            .then(o -> {
              Row heart = o.row(EVENTS, "item_id", "85123A");
              assertEquals("purchase", heart.getAs("event_type"));
              assertEquals(Instant.parse("2010-12-01T08:26:00Z"), heart.<java.sql.Timestamp>getAs("event_time").toInstant());
              assertEquals(6, (int) heart.<Integer>getAs("quantity"));
              assertEquals("536365", heart.getAs("session_id"));
              assertEquals("17850", o.row(EVENTS, "item_id", "71053").getAs("user_id"));
              Row cancel = o.row(EVENTS, "session_id", "C536379");
              assertEquals("return", cancel.getAs("event_type"));
              assertEquals(1, (int) cancel.<Integer>getAs("quantity"));
              assertEquals(27.5, cancel.<Double>getAs("price"));
              // The description column is counted per item into clean/item_descriptions (clean lines
              // only: the quarantined 84879 is not there; the cancellation's is), not kept per event.
              assertFalse(Arrays.asList(heart.schema().fieldNames()).contains("description"), heart.schema().toString());
              Map<String, String> described = new TreeMap<>();
              for (Row d : o.clean("item_descriptions")) {
                assertEquals(1L, d.<Long>getAs("lines"), d.toString());
                described.put(d.getAs("item_id"), d.getAs("description"));
              }
              assertEquals(Map.of("85123A", "WHITE HANGING HEART T-LIGHT HOLDER", "71053", "WHITE METAL LANTERN",
                  "22633", "HAND WARMER UNION JACK, RED", "D", "Discount", "22728", "ALARM CLOCK BAKELIKE PINK"),
                  described);
            }),

        // Legacy Windows system writing latin-1 ("caf\xE9"), read with the default UTF-8.
        events("latin1.csv").with(TOLERANT).counts(EVENTS, 2, 1, 1)
            .reject(2, ReasonCode.MALFORMED_LINE, "not valid UTF-8 (set affinity.input.events.encoding)"),

        // The same latin-1 file with its encoding declared.
        events("latin1.csv").with("-Daffinity.input.events.encoding=ISO-8859-1").counts(EVENTS, 2, 2, 0)
            .then(o -> assertEquals("caf\u00e9", o.row(EVENTS, "user_id", "u1").getAs("item_id"))),

        // Upstream switched to dd/MM/yyyy H:mm and renamed an event: 3 of 4 rows bad, default 5 %
        // gate. Exit 3, quarantine written, no clean output.
        events("gate_exceeded.csv").counts(EVENTS, 4, -1, 3)
            .reject(3, ReasonCode.BAD_TIMESTAMP, "'event_time'")
            .reject(4, ReasonCode.BAD_TIMESTAMP, "'event_time'")
            .reject(5, ReasonCode.UNKNOWN_EVENT_TYPE, "'event_type'")
            .fails(3, "data-quality gate failed", "events quarantined 75.00% of 4 rows",
                "affinity.ingest.max-reject-share", "top reasons: BAD_TIMESTAMP 2, UNKNOWN_EVENT_TYPE 1", "quarantine"),

        // Nightly drop compressed with gzip; line numbers still count lines of the decompressed text.
        events("gzip_source.csv").with(TOLERANT).path(tmp -> gzip("gzip_source.csv", tmp.resolve("events.csv.gz")))
            .sourceFile("events.csv.gz")
            .counts(EVENTS, 3, 2, 1)
            .reject(3, ReasonCode.BAD_TIMESTAMP, "'event_time' = \"2026-11-31 11:00:00\""));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void ingest(Case c, @TempDir Path tmp) throws Exception {
    run(c, tmp);
  }

  // ---------------------------------------------------------------------------------------------
  // Regression cases for two bugs this corpus found (a stray quote swallowing the next line; a
  // BOM-only file taken for a header).
  // ---------------------------------------------------------------------------------------------

  /**
   * Export tool that quotes every field, truncated inside one: the open quote of line 3 is closed
   * by the first quote of line 4, the joined text then fails, and line 4 must still be read.
   */
  static Case unterminatedQuoteBeforeQuotedFields() {
    return events("unterminated_quote_quoted_fields.csv").with(TOLERANT).counts(EVENTS, 4, 3, 1)
        .reject(3, ReasonCode.MALFORMED_LINE, "unterminated quote")
        .then(o -> assertEquals(List.of("u1", "u3", "u4"), o.sorted(EVENTS, "user_id")));
  }

  @Test
  void unterminatedQuoteDoesNotSwallowFollowingQuotedLines(@TempDir Path tmp) throws Exception {
    run(unterminatedQuoteBeforeQuotedFields(), tmp);
  }

  /**
   * Excel saving an empty sheet as "CSV UTF-8": the file is only a byte-order mark. It is as empty
   * as a zero-byte file and must fail the same way (exit 3, "empty"), not as a configuration error.
   */
  static Case bomOnly() {
    return events("bom_only.csv").counts(EVENTS, 0, -1, 0)
        .fails(3, "bom_only.csv", "empty or header-only", "affinity.input.events.path");
  }

  @Test
  void bomOnlyFileIsEmpty(@TempDir Path tmp) throws Exception {
    run(bomOnly(), tmp);
  }

  // ---------------------------------------------------------------------------------------------
  // Running and checking one case
  // ---------------------------------------------------------------------------------------------

  private static void run(Case c, Path tmp) throws Exception {
    Path root = tmp.resolve("out");
    List<String> args = new ArrayList<>(List.of("ingest", "--run-date", RUN_DATE,
        "-Daffinity.output.root=" + root, "-Daffinity.input.events.path=" + c.eventsPath.make(tmp)));
    if (c.ratingsFile != null) {
      args.add("-Daffinity.input.ratings.path=" + resource(c.ratingsFile));
    }
    args.addAll(c.options);
    Run run = cli(args.toArray(new String[0]));

    assertEquals(c.exitCode, run.exitCode(), () -> "exit code; stderr: " + run.stderr());
    if (c.exitCode == 0) {
      assertTrue(run.stdout().contains("ingest done for run_date=" + RUN_DATE), run.stdout());
    } else {
      assertTrue(run.stderr().startsWith("affinity: "), () -> "stderr is not a sentence: " + run.stderr());
      assertFalse(run.stderr().contains("\tat "), () -> "stderr holds a stack trace: " + run.stderr());
      for (String fragment : c.stderr) {
        assertTrue(run.stderr().contains(fragment), () -> "stderr lacks '" + fragment + "': " + run.stderr());
      }
    }
    if (c.counts.isEmpty()) {
      // Stopped before any row was counted (configuration, missing input): nothing is published.
      assertFalse(Files.exists(root.resolve("clean")), "clean output written by a failed run");
      assertFalse(Files.exists(root.resolve("quarantine")), "quarantine written before any row was read");
      return;
    }
    Outputs outputs = new Outputs(root, new HashMap<>());
    if (c.exitCode == 0 || !c.rejects.isEmpty()) {
      checkQuarantine(c, root);
    } else {
      assertFalse(Files.exists(root.resolve("quarantine")), "quarantine written for an input without data rows");
    }
    checkManifest(c, root, outputs);
    if (c.exitCode == 0) {
      for (Check check : c.checks) {
        check.verify(outputs);
      }
    }
  }

  private static void checkQuarantine(Case c, Path root) throws IOException {
    List<Row> rows = spark.read().parquet(root.resolve("quarantine/run_date=" + RUN_DATE).toString())
        .select("source", "source_file", "line_number", "byte_offset", "raw", "reason", "detail")
        .collectAsList();
    Map<String, Row> actual = new TreeMap<>();
    for (Row r : rows) {
      String file = r.getString(1);
      String key = r.getString(0) + " " + file.substring(file.lastIndexOf('/') + 1) + ":" + r.get(2) + " " + r.getString(5);
      assertNull(actual.put(key, r), "two quarantine rows for " + key);
    }
    Map<String, Rejected> expected = new TreeMap<>();
    for (Rejected e : c.rejects) {
      expected.put(e.source + " " + c.fileOf(e.source) + ":" + e.line + " " + e.reason, e);
    }
    assertEquals(expected.keySet(), actual.keySet(), "quarantine rows (source file:line reason)");
    for (Map.Entry<String, Rejected> e : expected.entrySet()) {
      Row r = actual.get(e.getKey());
      Rejected x = e.getValue();
      String raw = x.raw != null ? x.raw : physicalLine(c.inputOf(x.source), x.line, c.charset());
      assertEquals(raw, r.getString(4), "raw text of " + e.getKey());
      assertEquals(lineStart(Files.readAllBytes(resource(c.inputOf(x.source))), x.line), r.getLong(3),
          "byte offset of " + e.getKey());
      assertTrue(r.getString(6).contains(x.detail), "detail of " + e.getKey() + " lacks '" + x.detail + "': " + r.getString(6));
    }
  }

  @SuppressWarnings("unchecked")
  private static void checkManifest(Case c, Path root, Outputs outputs) throws IOException {
    Map<String, Object> doc = JSON.readValue(root.resolve("runs/run_date=" + RUN_DATE + "/manifest.json").toFile(), Map.class);
    Map<String, Object> ingest = (Map<String, Object>) ((Map<String, Object>) doc.get("stages")).get("ingest");
    assertEquals(c.exitCode == 0 ? "succeeded" : "failed", ingest.get("status"));
    Map<String, Object> sources = (Map<String, Object>) ingest.get("sources");
    assertEquals(c.counts.keySet(), sources.keySet(), "sources in the manifest");
    for (Map.Entry<String, Counts> e : c.counts.entrySet()) {
      String source = e.getKey();
      Counts want = e.getValue();
      Map<String, Object> got = (Map<String, Object>) sources.get(source);
      Map<String, Long> reasons = new TreeMap<>();
      for (Rejected r : c.rejects) {
        if (r.source.equals(source)) {
          reasons.merge(r.reason.name(), 1L, Long::sum);
        }
      }
      Map<String, Long> gotReasons = new TreeMap<>();
      ((Map<String, Object>) got.get("quarantined_by_reason")).forEach((k, v) -> gotReasons.put(k, ((Number) v).longValue()));
      assertEquals(want.read, number(got, "read"), source + ".read");
      assertEquals(want.quarantined, number(got, "quarantined"), source + ".quarantined");
      assertEquals(reasons, gotReasons, source + ".quarantined_by_reason");
      Path clean = root.resolve("clean/" + source + "/run_date=" + RUN_DATE);
      if (c.exitCode != 0) {
        assertFalse(got.containsKey("clean"), source + ": clean counted although the gate failed");
        assertFalse(Files.exists(clean), source + ": clean output written although the gate failed");
        continue;
      }
      assertEquals(want.clean, number(got, "clean"), source + ".clean");
      assertEquals(want.exact + want.key, number(got, "duplicates"), source + ".duplicates");
      assertEquals(want.exact, number(got, "duplicates_exact"), source + ".duplicates_exact");
      assertEquals(want.key, number(got, "duplicates_key"), source + ".duplicates_key");
      assertEquals(want.after, number(got, "after_run_date"), source + ".after_run_date");
      assertEquals(number(got, "read"), number(got, "clean") + number(got, "quarantined") + number(got, "duplicates")
          + number(got, "after_run_date"), source + ": read != clean + quarantined + duplicates + after_run_date");
      assertEquals(want.clean, outputs.clean(source).size(), source + ": rows in " + clean);
    }
  }

  private static long number(Map<String, Object> m, String key) {
    Object v = m.get(key);
    assertNotNull(v, "manifest lacks " + key + " in " + m);
    return ((Number) v).longValue();
  }

  /** Physical line n (1-based) of a golden file as the reader sees it: no '\r', no BOM, decoded. */
  private static String physicalLine(String file, long n, Charset charset) throws IOException {
    byte[] bytes = Files.readAllBytes(resource(file));
    int start = lineStart(bytes, n);
    int end = indexOf(bytes, (byte) '\n', start);
    end = end < 0 ? bytes.length : end;
    if (end > start && bytes[end - 1] == '\r') {
      end--;
    }
    String s = new String(bytes, start, end - start, charset);
    return n == 1 && s.startsWith("\uFEFF") ? s.substring(1) : s;
  }

  /** Byte offset of line n (1-based) in the uncompressed file: what the quarantine's byte_offset holds. */
  private static int lineStart(byte[] bytes, long n) {
    int start = 0;
    for (long i = 1; i < n; i++) {
      start = indexOf(bytes, (byte) '\n', start) + 1;
    }
    return start;
  }

  private static int indexOf(byte[] bytes, byte b, int from) {
    for (int i = from; i < bytes.length; i++) {
      if (bytes[i] == b) {
        return i;
      }
    }
    return -1;
  }

  static Path resource(String name) {
    URL url = BadInputCorpusTest.class.getResource("/BadInputCorpusTest/" + name);
    assertNotNull(url, "golden file " + name + " is missing");
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** crlf.csv re-encoded as UTF-16 with its byte-order mark. */
  private static String utf16(Path tmp, String name, Charset charset, byte b0, byte b1) throws IOException {
    Path f = tmp.resolve(name);
    byte[] text = new String(Files.readAllBytes(resource("crlf.csv")), StandardCharsets.UTF_8).getBytes(charset);
    try (OutputStream out = Files.newOutputStream(f)) {
      out.write(new byte[] {b0, b1});
      out.write(text);
    }
    return f.toString();
  }

  private static String gzip(String name, Path target) throws IOException {
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(target))) {
      out.write(Files.readAllBytes(resource(name)));
    }
    return target.toString();
  }

  // ---------------------------------------------------------------------------------------------
  // The case model
  // ---------------------------------------------------------------------------------------------

  /** Expected counts of one source; {@code clean} is unused (-1) when the run fails. */
  private record Counts(long read, long clean, long quarantined, long exact, long key, long after) {}

  /** One expected quarantine row; {@code raw} null means the physical line itself. */
  private record Rejected(String source, long line, ReasonCode reason, String detail, String raw) {}

  /** Where the events input comes from, given the case's temp directory. */
  private interface PathMaker {
    String make(Path tmp) throws IOException;
  }

  /** An extra assertion on the outputs of a successful run. */
  private interface Check {
    void verify(Outputs o) throws Exception;
  }

  /** Read access to the clean outputs of one run, each read once. */
  private record Outputs(Path root, Map<String, List<Row>> read) {
    List<Row> clean(String source) {
      return read.computeIfAbsent(source, s ->
          spark.read().parquet(root.resolve("clean/" + s + "/run_date=" + RUN_DATE).toString()).collectAsList());
    }

    /** The one clean row whose column equals the value. */
    Row row(String source, String column, String value) {
      List<Row> hits = clean(source).stream().filter(r -> value.equals(r.getAs(column))).collect(Collectors.toList());
      assertEquals(1, hits.size(), "clean " + source + " rows with " + column + " = " + value);
      return hits.get(0);
    }

    Instant time(String source, String column, String value) {
      return row(source, column, value).<java.sql.Timestamp>getAs("event_time").toInstant();
    }

    /** A column of every clean row, sorted. */
    List<String> sorted(String source, String column) {
      return clean(source).stream().map(r -> String.valueOf((Object) r.getAs(column))).sorted().collect(Collectors.toList());
    }
  }

  private static Case events(String file) {
    return new Case(file);
  }

  /** One corpus entry, built fluently in the table above. */
  static final class Case {
    private final String name;
    private final String input;
    private PathMaker eventsPath;
    private String eventsFileName;
    private String ratingsFile;
    private final List<String> options = new ArrayList<>();
    private int exitCode = 0;
    private final List<String> stderr = new ArrayList<>();
    private final Map<String, Counts> counts = new LinkedHashMap<>();
    private final List<Rejected> rejects = new ArrayList<>();
    private final List<Check> checks = new ArrayList<>();

    private Case(String input) {
      this.input = input;
      this.eventsFileName = input;
      this.eventsPath = tmp -> resource(input).toString();
      this.name = input;
    }

    Case with(String... opts) {
      options.addAll(Arrays.asList(opts));
      return this;
    }

    Case path(PathMaker maker) {
      eventsPath = maker;
      return this;
    }

    /** The file name the quarantine reports for events when it differs from the golden file. */
    Case sourceFile(String name) {
      eventsFileName = name;
      return this;
    }

    Case ratings(String file, String... opts) {
      ratingsFile = file;
      return with(opts);
    }

    Case counts(String source, long read, long clean, long quarantined) {
      return counts(source, read, clean, quarantined, 0, 0);
    }

    Case counts(String source, long read, long clean, long quarantined, long exactDuplicates, long keyDuplicates) {
      counts.put(source, new Counts(read, clean, quarantined, exactDuplicates, keyDuplicates, 0));
      return this;
    }

    /** Rows of the source after the run date (counted apart, out of clean and quarantine). */
    Case after(String source, long rows) {
      Counts c = counts.get(source);
      counts.put(source, new Counts(c.read, c.clean, c.quarantined, c.exact, c.key, rows));
      return this;
    }

    Case reject(long line, ReasonCode reason, String detail) {
      return reject(EVENTS, line, reason, detail);
    }

    Case reject(String source, long line, ReasonCode reason, String detail) {
      rejects.add(new Rejected(source, line, reason, detail, null));
      return this;
    }

    /** The raw text of the last reject, when it is not one physical line. */
    Case raw(String raw) {
      Rejected r = rejects.remove(rejects.size() - 1);
      rejects.add(new Rejected(r.source, r.line, r.reason, r.detail, raw));
      return this;
    }

    Case fails(int code, String... messageFragments) {
      exitCode = code;
      stderr.addAll(Arrays.asList(messageFragments));
      return this;
    }

    Case then(Check check) {
      checks.add(check);
      return this;
    }

    String fileOf(String source) {
      return source.equals(EVENTS) ? eventsFileName : ratingsFile;
    }

    String inputOf(String source) {
      return source.equals(EVENTS) ? input : ratingsFile;
    }

    Charset charset() {
      return options.stream().filter(o -> o.startsWith("-Daffinity.input.events.encoding="))
          .map(o -> Charset.forName(o.substring(o.indexOf('=') + 1))).findFirst().orElse(StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
      String shown = options.stream().filter(o -> !o.equals(TOLERANT))
          .map(o -> o.replace("-Daffinity.", "")).collect(Collectors.joining(" "));
      return name + (shown.isEmpty() ? "" : " " + (shown.length() > 80 ? shown.substring(0, 77) + "..." : shown));
    }
  }
}
