// reports/svg_plot.h — small charts written as inline SVG text, for the HTML report.
//
// Three kinds, each a plain struct of what to draw and one render function that returns a whole <svg>
// element with its title, axes, ticks, axis labels and legend: lines over x (linear or log2), a histogram
// of counts over bin edges with its layers side by side in each bin, and horizontal grouped bars with
// ± whiskers. Charts are laid out for a 720-unit-wide viewBox and scale to the page, so they stay
// readable at 800 px.
// Design goals: no library and no script; the same input gives the same bytes (tests, diffs of reports);
// every text escaped. Not here: what the data means (reports/html_report.cpp turns results.json into
// these structs), interactivity beyond the browser's own tooltips (<title>).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace r1lab::reports::svg {

// The colour of the index-th series; a page indexes its runs once so a run keeps its colour in every chart.
std::string series_color(std::size_t index);

struct LineSeries {
  std::string name;                 // legend text
  std::string color;
  bool dashed = false;
  std::vector<double> x, y;         // the same length; on a log2 axis, points with x <= 0 are not drawn
  std::vector<double> error;        // empty, or ± per point: drawn as a shaded band
};

struct LineChart {
  std::string title, x_label, y_label;
  bool x_log2 = false;
  // The y axis spans the data (with the error bands) widened to round ticks, but never beyond these.
  double y_floor = 0, y_ceiling = 100;
  std::vector<LineSeries> series;
};
std::string render_line_chart(const LineChart& chart);

struct HistogramLayer {
  std::string name, color;
  std::vector<double> counts;       // one per bin
};

struct Histogram {
  std::string title, x_label, y_label;
  std::vector<double> edges;        // ascending, one more than the bins
  std::vector<HistogramLayer> layers;
};
// Bins whose layers' counts do not match the edges are a caller's bug: the chart draws the bins it can.
std::string render_histogram(const Histogram& chart);

struct BarGroup {
  std::string name;
  std::vector<double> values;       // one per series; NaN: that series has no bar in this group
  std::vector<double> errors;       // ± per series (0: no whisker)
};

struct BarChart {
  std::string title, value_label;
  std::vector<std::string> series_names, series_colors;
  std::vector<BarGroup> groups;     // top to bottom
  double value_max = 100;
};
std::string render_bar_chart(const BarChart& chart);

}  // namespace r1lab::reports::svg
