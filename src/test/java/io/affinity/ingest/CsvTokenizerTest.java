package io.affinity.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The tokenizer on its own: quoting rules, multi-character delimiters, open quotes. */
class CsvTokenizerTest {
  private final CsvTokenizer comma = new CsvTokenizer(",", '"');

  @Test
  void plainAndEmptyFields() throws Reject {
    assertEquals(List.of("a", "", "c", ""), comma.split("a,,c,"));
    assertEquals(List.of(""), comma.split(""));
  }

  @Test
  void quotedDelimiterDoubledQuoteAndNewline() throws Reject {
    assertEquals(List.of("Lamp, brass", "say \"hi\"", "x"), comma.split("\"Lamp, brass\",\"say \"\"hi\"\"\",x"));
    assertEquals(List.of("two\nlines", "z"), comma.split("\"two\nlines\",z"));
    assertEquals(List.of("a", "b c"), comma.split("a,  \"b c\"  "), "spaces around a quoted field");
  }

  @Test
  void quoteInsideAnUnquotedFieldIsText() throws Reject {
    assertEquals(List.of("5\" screen", "tv"), comma.split("5\" screen,tv"));
  }

  @Test
  void openQuoteAsksForMoreAndTextAfterClosingQuoteIsMalformed() {
    assertSame(CsvTokenizer.NEEDS_MORE, assertDoesNotThrowSplit("a,\"unterminated"));
    Reject r = assertThrows(Reject.class, () -> comma.split("\"closed\"junk,b"));
    assertEquals(ReasonCode.MALFORMED_LINE, r.reason);
    assertTrue(r.getMessage().contains("after closing quote"), r.getMessage());
  }

  @Test
  void multiCharacterDelimiterAndNoQuoting() throws Reject {
    CsvTokenizer ml = new CsvTokenizer("::", (char) 0);
    assertEquals(List.of("1", "Toy Story (1995)", "Animation|Comedy"), ml.split("1::Toy Story (1995)::Animation|Comedy"));
    assertEquals(List.of("\"quoted\" title", "x"), ml.split("\"quoted\" title::x"), "no quoting: quotes are text");
    assertEquals(List.of("a:b", "c"), ml.split("a:b::c"));
  }

  private List<String> assertDoesNotThrowSplit(String s) {
    try {
      return comma.split(s);
    } catch (Reject e) {
      throw new AssertionError("unexpected reject: " + e.getMessage());
    }
  }
}
