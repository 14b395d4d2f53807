package io.affinity.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.mustachejava.DefaultMustacheFactory;
import com.github.mustachejava.Mustache;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Draws a {@link ReportModel} with the Mustache templates in {@code src/main/resources/report/}:
 * {@code page.mustache} is the page and includes one partial per section.
 *
 * <p>Why Mustache (Mustache.java): {@code {{x}}} is HTML-escaped unless a template asks otherwise
 * with {@code {{{x}}}}, so escaping is the default and the exceptions are visible in the
 * templates; templates are plain resources interpreted at run time, so the shaded app jar needs
 * no template compiler or build plugin (JTE would need one of those) and grows by about 0.15 MB;
 * it has no runtime dependencies and Spark does not ship it, so nothing clashes. Being logic-less
 * keeps every decision in {@link ReportModelBuilder}, where it is tested without HTML.
 *
 * <p>Exactly two values are inserted raw, both into {@code <script>} elements, both made safe for
 * that context here: the ECharts library (every {@code </script} becomes {@code <\/script}, the
 * same text to JavaScript) and the chart options as JSON (every {@code <}, {@code >} and {@code &}
 * becomes a unicode escape, so no label can end the element or open a comment). Everything else
 * goes through the engine's escaping, made strict by {@link StrictHtmlFactory}.
 */
final class ReportTemplates {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SCRIPT_END = Pattern.compile("</(script)", Pattern.CASE_INSENSITIVE);

  /** Compiled once; a compiled Mustache is safe to run from several threads. */
  private static final Mustache PAGE = new StrictHtmlFactory().compile("page.mustache");

  private ReportTemplates() {}

  /**
   * The whole page.
   *
   * @param model what to show
   * @param echartsJs the text of {@code echarts.min.js}, inlined
   */
  static String render(ReportModel model, String echartsJs) {
    Map<String, Object> options = new LinkedHashMap<>();
    for (ReportModel.Chart c : model.charts()) {
      options.put(c.id(), c.option());
    }
    StringWriter out = new StringWriter(echartsJs.length() + 32_768);
    PAGE.execute(out, new Object[] {model, new Scripts(inlineScript(echartsJs), scriptJson(options))});
    return out.toString();
  }

  /** The two raw insertions of {@code page.mustache} ({@code {{{echarts}}}}, {@code {{{chartOptions}}}}). */
  record Scripts(String echarts, String chartOptions) {}

  /**
   * Mustache.java's default escaper leaves text that looks like an entity ({@code &amp;},
   * {@code &#60;}) as it is, so data would show differently from what it is; this one escapes every
   * {@code &}, {@code <}, {@code >}, {@code "} and {@code '}, for element text and quoted attribute values alike.
   */
  private static final class StrictHtmlFactory extends DefaultMustacheFactory {
    StrictHtmlFactory() {
      super("report");
    }

    @Override
    public void encode(String value, Writer writer) {
      try {
        writer.write(escapeHtml(value));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Text for HTML content and quoted attribute values. */
  static String escapeHtml(String s) {
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }

  /**
   * JSON that is safe inside a {@code <script>} element: {@code <}, {@code >} and {@code &} become
   * unicode escapes (still the same strings to JavaScript; outside strings JSON has none of them),
   * and so do U+2028/U+2029, which are line ends in older JavaScript but not in JSON.
   */
  static String scriptJson(Object value) {
    return json(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029");
  }

  /** Plain JSON, for a value shown as text (the template escapes it). */
  static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise report data: " + e.getMessage(), e);
    }
  }

  /**
   * A library's text inlined in a script element: nothing in it may end the element early. Only
   * {@code </script} (any case) is rewritten, to {@code <\/script}: inside a JavaScript string or
   * regular expression that is the same text, and elsewhere in code it cannot occur.
   */
  static String inlineScript(String js) {
    return SCRIPT_END.matcher(js).replaceAll("<\\\\/$1");
  }
}
