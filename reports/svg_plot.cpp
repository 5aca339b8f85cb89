#include "reports/svg_plot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

#include "reports/text_escape.h"

namespace r1lab::reports::svg {

namespace {

constexpr double kWidth = 720;
constexpr double kFontSize = 12;
// The mean advance of a 12 px sans-serif glyph: enough to lay out legends and labels without measuring text.
constexpr double kCharWidth = 6.8;
constexpr double kTitleSize = 14;
constexpr double kTitleCharWidth = 8.4;   // the same for 14 px semibold titles
constexpr const char* kTextColor = "#222";
constexpr const char* kAxisColor = "#555";
constexpr const char* kGridColor = "#e4e4e4";

// Pixels with one decimal: enough precision, and the same bytes for the same chart.
std::string px(double value) { return fmt::format("{:.1f}", value); }

double text_width(const std::string& text, double char_width = kCharWidth) {
  // UTF-8 continuation bytes do not start a glyph.
  double glyphs = 0;
  for (unsigned char c : text) glyphs += (c & 0xC0) != 0x80;
  return glyphs * char_width;
}

// Cuts a label to fit a width, ending it with an ellipsis (the chart's <title> keeps the whole text).
std::string fit_text(const std::string& text, double width, double char_width = kCharWidth) {
  if (text_width(text, char_width) <= width) return text;
  std::string out;
  double used = char_width;   // the ellipsis
  for (std::size_t i = 0; i < text.size();) {
    std::size_t length = 1;
    while (i + length < text.size() && (static_cast<unsigned char>(text[i + length]) & 0xC0) == 0x80) ++length;
    if (used + char_width > width) break;
    out += text.substr(i, length);
    used += char_width;
    i += length;
  }
  return out + "…";
}

// Tick text: "0.5", "40", "12k" (lengths in the tens of thousands stay short).
std::string tick_text(double value) {
  if (std::abs(value) >= 10000) return fmt::format("{:g}k", value / 1000);
  return fmt::format("{:g}", value);
}

// SVG elements in drawing order; later elements paint over earlier ones.
class Canvas {
 public:
  void line(double x1, double y1, double x2, double y2, const std::string& color, double width = 1,
            const std::string& dash = "") {
    body_ += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n", px(x1), px(y1),
                         px(x2), px(y2), color, width, dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"");
  }
  void rect(double x, double y, double width, double height, const std::string& fill, const std::string& tooltip = "",
            double opacity = 1) {
    body_ += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}", px(x), px(y), px(std::max(width, 0.0)),
                         px(std::max(height, 0.0)), fill, opacity < 1 ? fmt::format(" fill-opacity=\"{}\"", opacity) : "");
    body_ += tooltip.empty() ? "/>\n" : "><title>" + html_escape(tooltip) + "</title></rect>\n";
  }
  void polyline(const std::vector<std::pair<double, double>>& points, const std::string& color, double width,
                const std::string& dash) {
    body_ += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"" + fmt::format("{}", width) + "\"" +
             (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") + " stroke-linejoin=\"round\" points=\"";
    for (const auto& [x, y] : points) body_ += px(x) + "," + px(y) + " ";
    body_ += "\"/>\n";
  }
  void polygon(const std::vector<std::pair<double, double>>& points, const std::string& fill, double opacity) {
    body_ += "<polygon fill=\"" + fill + "\" fill-opacity=\"" + fmt::format("{}", opacity) + "\" stroke=\"none\" points=\"";
    for (const auto& [x, y] : points) body_ += px(x) + "," + px(y) + " ";
    body_ += "\"/>\n";
  }
  void circle(double x, double y, double radius, const std::string& fill, const std::string& tooltip) {
    body_ += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"{}\"><title>{}</title></circle>\n", px(x), px(y), radius, fill,
                         html_escape(tooltip));
  }
  // anchor: start, middle or end. rotate: degrees about (x, y).
  void text(double x, double y, const std::string& text, const char* anchor = "start", double size = kFontSize,
            bool bold = false, double rotate = 0, const std::string& color = kTextColor) {
    body_ += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\" font-size=\"{}\" fill=\"{}\"{}{}>{}</text>\n", px(x), px(y),
                         anchor, size, color, bold ? " font-weight=\"600\"" : "",
                         rotate != 0 ? fmt::format(" transform=\"rotate({} {} {})\"", rotate, px(x), px(y)) : "", html_escape(text));
  }
  std::string finish(double height, const std::string& title) const {
    return fmt::format("<svg viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" "
                       "aria-label=\"{}\" font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\" "
                       "style=\"max-width:100%;height:auto\">\n<title>{}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n{}</svg>\n",
                       kWidth, px(height), kWidth, px(height), html_escape(title), html_escape(title), body_);
  }

 private:
  std::string body_;
};

// Maps data values to pixels along one axis (log2 axes map log2 of the value).
struct Scale {
  double data_low, data_high, pixel_low, pixel_high;
  bool log2 = false;
  double operator()(double value) const {
    auto transform = [&](double v) { return log2 ? std::log2(v) : v; };
    const double span = transform(data_high) - transform(data_low);
    const double fraction = span > 0 ? (transform(value) - transform(data_low)) / span : 0.5;
    return pixel_low + fraction * (pixel_high - pixel_low);
  }
};

struct Tick {
  double value;
  std::string text;
};

// An axis range widened to whole steps of 1, 2 or 5 times a power of ten, and its ticks.
struct NiceRange {
  double low, high;
  std::vector<Tick> ticks;
};

NiceRange nice_range(double low, double high, int target_steps) {
  if (!(high > low)) {   // one value (or none): a range around it
    const double pad = low == 0 ? 1 : std::abs(low) * 0.1;
    low -= pad;
    high += pad;
  }
  const double raw = (high - low) / target_steps;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * magnitude;
  for (double multiple : {1.0, 2.0, 5.0})
    if (multiple * magnitude >= raw) {
      step = multiple * magnitude;
      break;
    }
  NiceRange range{std::floor(low / step + 1e-9) * step, std::ceil(high / step - 1e-9) * step, {}};
  for (double value = range.low; value <= range.high + step * 1e-6; value += step) {
    const double rounded = std::round(value / step) * step;   // no 0.30000000000000004
    range.ticks.push_back({rounded, tick_text(rounded == 0 ? 0 : rounded)});
  }
  return range;
}

// The plot area, in pixels.
struct Frame {
  double left, top, width, height;
  double right() const { return left + width; }
  double bottom() const { return top + height; }
};

void draw_title(Canvas& canvas, double left, const std::string& title) {
  canvas.text(left, 20, fit_text(title, kWidth - left - 8, kTitleCharWidth), "start", kTitleSize, true);
}

void draw_y_axis(Canvas& canvas, const Frame& frame, const Scale& scale, const std::vector<Tick>& ticks, const std::string& label) {
  for (const auto& tick : ticks) {
    const double y = scale(tick.value);
    canvas.line(frame.left, y, frame.right(), y, kGridColor);
    canvas.line(frame.left - 4, y, frame.left, y, kAxisColor);
    canvas.text(frame.left - 7, y + 4, tick.text, "end");
  }
  canvas.line(frame.left, frame.top, frame.left, frame.bottom(), kAxisColor);
  canvas.text(16, frame.top + frame.height / 2, label, "middle", kFontSize, false, -90);
}

void draw_x_axis(Canvas& canvas, const Frame& frame, const Scale& scale, const std::vector<Tick>& ticks, const std::string& label,
                 bool grid) {
  for (const auto& tick : ticks) {
    const double x = scale(tick.value);
    if (grid) canvas.line(x, frame.top, x, frame.bottom(), kGridColor);
    canvas.line(x, frame.bottom(), x, frame.bottom() + 4, kAxisColor);
    canvas.text(x, frame.bottom() + 17, tick.text, "middle");
  }
  canvas.line(frame.left, frame.bottom(), frame.right(), frame.bottom(), kAxisColor);
  canvas.text(frame.left + frame.width / 2, frame.bottom() + 36, label, "middle");
}

struct LegendEntry {
  std::string name, color;
  enum Kind { line, dashed_line, box } kind = line;
};

// Entries left to right, wrapping into rows; returns the height used.
double draw_legend(Canvas& canvas, const std::vector<LegendEntry>& entries, double left, double top, double width) {
  constexpr double kRowHeight = 20, kSwatch = 22;
  double x = left, y = top;
  for (const auto& entry : entries) {
    const std::string name = fit_text(entry.name, width - kSwatch - 8);
    const double entry_width = kSwatch + 6 + text_width(name) + 18;
    if (x > left && x + entry_width > left + width) {
      x = left;
      y += kRowHeight;
    }
    if (entry.kind == LegendEntry::box) canvas.rect(x, y + 3, 14, 10, entry.color);
    else canvas.line(x, y + 8, x + kSwatch, y + 8, entry.color, 2.5, entry.kind == LegendEntry::dashed_line ? "6 4" : "");
    canvas.text(x + kSwatch + 6, y + 12, name);
    x += entry_width;
  }
  return entries.empty() ? 0 : y - top + kRowHeight;
}

double finite_or(double value, double fallback) { return std::isfinite(value) ? value : fallback; }

}  // namespace

std::string series_color(std::size_t index) {
  // Ten hues that stay apart for the common kinds of colour blindness, then repeat.
  static const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1",
                                         "#76b7b2", "#edc948", "#9c755f", "#ff9da7", "#bab0ac"};
  return kPalette[index % (sizeof(kPalette) / sizeof(kPalette[0]))];
}

std::string render_line_chart(const LineChart& chart) {
  auto drawn = [&](const LineSeries& series, std::size_t i) {
    return i < series.y.size() && std::isfinite(series.x[i]) && std::isfinite(series.y[i]) && (!chart.x_log2 || series.x[i] > 0);
  };
  double x_low = std::numeric_limits<double>::infinity(), x_high = -x_low, y_low = x_low, y_high = -x_low;
  for (const auto& series : chart.series)
    for (std::size_t i = 0; i < series.x.size(); ++i) {
      if (!drawn(series, i)) continue;
      const double error = i < series.error.size() ? finite_or(series.error[i], 0) : 0;
      x_low = std::min(x_low, series.x[i]);
      x_high = std::max(x_high, series.x[i]);
      y_low = std::min(y_low, series.y[i] - error);
      y_high = std::max(y_high, series.y[i] + error);
    }
  if (!std::isfinite(x_low)) {   // nothing to draw: an empty frame rather than NaN coordinates
    x_low = x_high = 1;
    y_low = chart.y_floor;
    y_high = chart.y_ceiling;
  }
  NiceRange y_range = nice_range(std::max(y_low, chart.y_floor), std::min(y_high, chart.y_ceiling), 5);
  y_range.low = std::max(y_range.low, chart.y_floor);
  y_range.high = std::min(y_range.high, chart.y_ceiling);
  std::erase_if(y_range.ticks, [&](const Tick& t) { return t.value < y_range.low || t.value > y_range.high; });

  std::vector<Tick> x_ticks;
  if (chart.x_log2) {
    // Whole powers of two bound the axis, so both ends carry a tick.
    const int first = static_cast<int>(std::floor(std::log2(x_low) + 1e-9)), last = static_cast<int>(std::ceil(std::log2(x_high) - 1e-9));
    x_low = std::exp2(first);
    x_high = std::exp2(last);
    const int stride = (last - first) > 10 ? 2 : 1;
    for (int power = first; power <= last; power += stride) x_ticks.push_back({std::exp2(power), tick_text(std::exp2(power))});
  } else {
    NiceRange x_range = nice_range(x_low, x_high, 8);
    x_low = x_range.low;
    x_high = x_range.high;
    x_ticks = x_range.ticks;
  }

  Canvas canvas;
  const Frame frame{62, 34, kWidth - 62 - 20, 250};
  // Points inset from the frame, so the first and last do not sit on the axes.
  const Scale x_scale{x_low, x_high, frame.left + 14, frame.right() - 14, chart.x_log2};
  const Scale y_scale{y_range.low, y_range.high, frame.bottom(), frame.top};
  draw_title(canvas, frame.left, chart.title);
  draw_y_axis(canvas, frame, y_scale, y_range.ticks, chart.y_label);
  draw_x_axis(canvas, frame, x_scale, x_ticks, chart.x_label, true);

  auto clamp_y = [&](double y) { return std::clamp(y, y_range.low, y_range.high); };
  for (const auto& series : chart.series) {
    std::vector<std::pair<double, double>> points, upper, lower;
    for (std::size_t i = 0; i < series.x.size(); ++i) {
      if (!drawn(series, i)) continue;
      const double x = x_scale(series.x[i]);
      points.emplace_back(x, y_scale(clamp_y(series.y[i])));
      if (i < series.error.size() && std::isfinite(series.error[i])) {
        upper.emplace_back(x, y_scale(clamp_y(series.y[i] + series.error[i])));
        lower.emplace_back(x, y_scale(clamp_y(series.y[i] - series.error[i])));
      }
    }
    if (upper.size() >= 2 && upper.size() == points.size()) {
      std::vector<std::pair<double, double>> band = upper;
      band.insert(band.end(), lower.rbegin(), lower.rend());
      canvas.polygon(band, series.color, series.dashed ? 0.08 : 0.16);
    }
    if (points.size() >= 2) canvas.polyline(points, series.color, 2, series.dashed ? "6 4" : "");
    for (std::size_t i = 0, p = 0; i < series.x.size(); ++i) {
      if (!drawn(series, i)) continue;
      const double error = i < series.error.size() ? finite_or(series.error[i], 0) : 0;
      canvas.circle(points[p].first, points[p].second, series.dashed ? 2.5 : 3.5, series.color,
                    fmt::format("{}: {:g} at {:g} ± {:.1f}", series.name, series.y[i], series.x[i], error));
      ++p;
    }
  }
  std::vector<LegendEntry> legend;
  for (const auto& series : chart.series)
    legend.push_back({series.name, series.color, series.dashed ? LegendEntry::dashed_line : LegendEntry::line});
  const double legend_top = frame.bottom() + 50;
  const double legend_height = draw_legend(canvas, legend, frame.left, legend_top, frame.width);
  return canvas.finish(legend_top + legend_height + 6, chart.title);
}

std::string render_histogram(const Histogram& chart) {
  std::size_t bins = chart.edges.empty() ? 0 : chart.edges.size() - 1;
  // The axis ends at the last bin that holds a count: fixed-width bins often end far beyond the longest.
  auto bin_is_empty = [&](std::size_t bin) {
    return std::all_of(chart.layers.begin(), chart.layers.end(),
                       [&](const HistogramLayer& layer) { return bin >= layer.counts.size() || !(layer.counts[bin] > 0); });
  };
  while (bins > 1 && bin_is_empty(bins - 1)) --bins;
  double x_low = bins ? chart.edges.front() : 0, x_high = bins ? chart.edges[bins] : 1;
  if (!(x_high > x_low)) x_high = x_low + 1;   // every length the same
  double count_max = 0;
  for (const auto& layer : chart.layers)
    for (std::size_t b = 0; b < std::min(bins, layer.counts.size()); ++b) count_max = std::max(count_max, layer.counts[b]);
  NiceRange y_range = nice_range(0, std::max(count_max, 1.0), 5);
  NiceRange x_range = nice_range(x_low, x_high, 8);
  std::erase_if(x_range.ticks, [&](const Tick& t) { return t.value < x_low - 1e-9 || t.value > x_high + 1e-9; });

  Canvas canvas;
  const Frame frame{62, 34, kWidth - 62 - 20, 200};
  // The bins span the whole frame; ticks fall where their values are.
  const Scale x_scale{x_low, x_high, frame.left, frame.right()};
  const Scale y_scale{0, y_range.high, frame.bottom(), frame.top};
  draw_title(canvas, frame.left, chart.title);
  draw_y_axis(canvas, frame, y_scale, y_range.ticks, chart.y_label);
  const std::size_t layers = chart.layers.size();
  for (std::size_t b = 0; b < bins; ++b) {
    const double left = x_scale(chart.edges[b]), right = x_scale(chart.edges[b + 1]);
    const double gap = std::min(2.0, (right - left) / 4);
    const double width = layers ? (right - left - gap) / static_cast<double>(layers) : 0;
    for (std::size_t l = 0; l < layers; ++l) {
      const auto& layer = chart.layers[l];
      if (b >= layer.counts.size() || !(layer.counts[b] > 0)) continue;
      const double top = y_scale(layer.counts[b]);
      canvas.rect(left + gap / 2 + width * static_cast<double>(l), top, width, frame.bottom() - top, layer.color,
                  fmt::format("{}: {:g} in [{:g}, {:g})", layer.name, layer.counts[b], chart.edges[b], chart.edges[b + 1]));
    }
  }
  draw_x_axis(canvas, frame, x_scale, x_range.ticks, chart.x_label, false);
  std::vector<LegendEntry> legend;
  for (const auto& layer : chart.layers) legend.push_back({layer.name, layer.color, LegendEntry::box});
  const double legend_top = frame.bottom() + 50;
  const double legend_height = draw_legend(canvas, legend, frame.left, legend_top, frame.width);
  return canvas.finish(legend_top + legend_height + 6, chart.title);
}

std::string render_bar_chart(const BarChart& chart) {
  constexpr double kBarHeight = 15, kGroupGap = 12, kLabelLimit = 230;
  const std::size_t series = chart.series_names.size();
  double label_width = 0;
  for (const auto& group : chart.groups) label_width = std::max(label_width, text_width(group.name));
  label_width = std::min(label_width, kLabelLimit);
  const double band = static_cast<double>(series) * kBarHeight + kGroupGap;
  // Room on the right for the value printed past the longest whisker.
  const Frame frame{label_width + 20, 34, kWidth - label_width - 20 - 52, band * static_cast<double>(chart.groups.size())};
  NiceRange value_range = nice_range(0, chart.value_max, 5);
  const Scale x_scale{0, value_range.high, frame.left, frame.right()};

  Canvas canvas;
  draw_title(canvas, 12, chart.title);
  draw_x_axis(canvas, frame, x_scale, value_range.ticks, chart.value_label, true);
  canvas.line(frame.left, frame.top, frame.left, frame.bottom(), kAxisColor);
  for (std::size_t g = 0; g < chart.groups.size(); ++g) {
    const auto& group = chart.groups[g];
    const double band_top = frame.top + kGroupGap / 2 + band * static_cast<double>(g);
    canvas.text(frame.left - 8, band_top + static_cast<double>(series) * kBarHeight / 2 + 4, fit_text(group.name, kLabelLimit), "end");
    for (std::size_t s = 0; s < series && s < group.values.size(); ++s) {
      const double value = group.values[s];
      if (!std::isfinite(value)) continue;
      const double error = s < group.errors.size() ? finite_or(group.errors[s], 0) : 0;
      const double top = band_top + kBarHeight * static_cast<double>(s), middle = top + (kBarHeight - 2) / 2;
      const std::string color = s < chart.series_colors.size() ? chart.series_colors[s] : series_color(s);
      canvas.rect(frame.left, top, x_scale(std::clamp(value, 0.0, value_range.high)) - frame.left, kBarHeight - 2, color,
                  fmt::format("{}, {}: {:.1f} ± {:.1f}", group.name, chart.series_names[s], value, error));
      double end = x_scale(std::clamp(value, 0.0, value_range.high));
      if (error > 0) {
        const double low = x_scale(std::clamp(value - error, 0.0, value_range.high));
        end = x_scale(std::clamp(value + error, 0.0, value_range.high));
        canvas.line(low, middle, end, middle, "#222", 1.2);
        canvas.line(low, middle - 4, low, middle + 4, "#222", 1.2);
        canvas.line(end, middle - 4, end, middle + 4, "#222", 1.2);
      }
      canvas.text(end + 5, middle + 4, fmt::format("{:.1f}", value), "start", 11, false, 0, "#444");
    }
  }
  std::vector<LegendEntry> legend;
  for (std::size_t s = 0; s < series; ++s)
    legend.push_back({chart.series_names[s], s < chart.series_colors.size() ? chart.series_colors[s] : series_color(s), LegendEntry::box});
  const double legend_top = frame.bottom() + 50;
  const double legend_height = draw_legend(canvas, legend, 12, legend_top, kWidth - 24);
  return canvas.finish(legend_top + legend_height + 6, chart.title);
}

}  // namespace r1lab::reports::svg
