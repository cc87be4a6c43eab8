//! Charts as plain SVG, rendered on the server (so they show before WASM loads and without
//! it) and re-rendered by the client when their data changes. Each chart is an image with a
//! title and a description for screen readers, and carries its numbers in a table under a
//! disclosure, so nobody has to read values off the drawing.

use leptos::prelude::*;

use crate::progress::model::Point;

/// How a chart's values read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// 0–1 shown as 0–100 %.
    Percent,
    /// Counts from 0.
    Count,
    /// Signed percentage points (a change of score), centred on 0.
    Change,
}

impl Scale {
    pub fn format(self, v: f64) -> String {
        match self {
            Scale::Percent => format!("{:.0} %", v * 100.0),
            Scale::Count => format!("{v:.0}"),
            Scale::Change => format!("{:+.0} pts", v * 100.0),
        }
    }

    /// The value range the axis covers.
    fn bounds(self, points: &[Point]) -> (f64, f64) {
        let max = points.iter().map(|p| p.value).fold(0.0_f64, f64::max);
        let min = points.iter().map(|p| p.value).fold(0.0_f64, f64::min);
        match self {
            Scale::Percent => (0.0, 1.0),
            // At least 2, so the middle gridline is a whole number.
            Scale::Count => (0.0, nice_ceiling(max).max(2.0)),
            Scale::Change => {
                let m = max.abs().max(min.abs()).max(0.05);
                (-m, m)
            }
        }
    }
}

/// 1, 2, 5, 10, 20, 50… at or above `v` (at least 1), so axis labels are round numbers.
fn nice_ceiling(v: f64) -> f64 {
    if !(v.is_finite() && v > 1.0) {
        return 1.0;
    }
    let mut step = 1.0;
    loop {
        for m in [1.0, 2.0, 5.0] {
            if m * step >= v {
                return m * step;
            }
        }
        step *= 10.0;
    }
}

const W: f64 = 320.0;
const H: f64 = 150.0;
const LEFT: f64 = 44.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;

fn y_of(v: f64, (lo, hi): (f64, f64)) -> f64 {
    let span = if hi > lo { hi - lo } else { 1.0 };
    TOP + (H - TOP - BOTTOM) * (1.0 - (v.clamp(lo, hi) - lo) / span)
}

/// The y axis: three gridlines with their labels.
fn axis(scale: Scale, bounds: (f64, f64)) -> impl IntoView {
    let (lo, hi) = bounds;
    [lo, (lo + hi) / 2.0, hi]
        .into_iter()
        .map(|v| {
            let y = y_of(v, bounds);
            view! {
                <line class="chart-grid" x1=LEFT x2=W - RIGHT y1=y y2=y/>
                <text class="chart-label" x=LEFT - 4.0 y=y + 4.0 text-anchor="end">{scale.format(v)}</text>
            }
        })
        .collect_view()
}

/// The numbers behind a chart, as a table.
#[component]
fn DataTable(
    points: Vec<Point>,
    scale: Scale,
    caption: String,
    label_heading: &'static str,
    value_heading: &'static str,
    summary: &'static str,
) -> impl IntoView {
    view! {
        <details class="chart-data">
            <summary>{summary}</summary>
            <table>
                <caption>{caption}</caption>
                <thead><tr><th scope="col">{label_heading}</th><th scope="col">{value_heading}</th></tr></thead>
                <tbody>
                    {points.into_iter().map(|p| view! {
                        <tr><th scope="row">{p.label}</th><td>{scale.format(p.value)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </details>
    }
}

/// Headings and words a chart needs around the drawing.
#[derive(Clone, Debug)]
pub struct ChartText {
    /// Unique in the page: the SVG's title and description are referenced by id.
    pub id: String,
    pub title: String,
    pub desc: String,
    pub label_heading: &'static str,
    pub value_heading: &'static str,
    pub show_numbers: &'static str,
}

/// The figure around a chart's drawing: the SVG labelled by its title and description, a
/// caption, and the table of its numbers.
fn figure(text: ChartText, points: Vec<Point>, scale: Scale, drawing: AnyView) -> impl IntoView {
    let title_id = format!("{}-title", text.id);
    let desc_id = format!("{}-desc", text.id);
    let labelled = format!("{title_id} {desc_id}");
    view! {
        <figure class="chart" data-testid=text.id.clone()>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-labelledby=labelled class="chart-svg">
                <title id=title_id>{text.title.clone()}</title>
                <desc id=desc_id>{text.desc.clone()}</desc>
                {axis(scale, scale.bounds(&points))}
                {drawing}
            </svg>
            <figcaption>{text.title.clone()}</figcaption>
            <DataTable points=points scale=scale caption=text.title label_heading=text.label_heading
                value_heading=text.value_heading summary=text.show_numbers/>
        </figure>
    }
}

/// A line over time (oldest first), with a dot per point.
#[component]
pub fn LineChart(text: ChartText, points: Vec<Point>, scale: Scale) -> impl IntoView {
    let bounds = scale.bounds(&points);
    let n = points.len();
    let x_of = move |i: usize| {
        if n <= 1 {
            (LEFT + W - RIGHT) / 2.0
        } else {
            LEFT + (W - LEFT - RIGHT) * i as f64 / (n - 1) as f64
        }
    };
    let line: String = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x_of(i), y_of(p.value, bounds)))
        .collect::<Vec<_>>()
        .join(" ");
    let first = points.first().map(|p| p.label.clone()).unwrap_or_default();
    let last = points.last().map(|p| p.label.clone()).unwrap_or_default();
    let dots = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let label = format!("{}: {}", p.label, scale.format(p.value));
            view! { <circle class="chart-dot" cx=x_of(i) cy=y_of(p.value, bounds) r="3"><title>{label}</title></circle> }
        })
        .collect_view();
    let drawing = view! {
        <polyline class="chart-line" points=line/>
        {dots}
        <text class="chart-label" x=LEFT y=H - 6.0>{first}</text>
        <text class="chart-label" x=W - RIGHT y=H - 6.0 text-anchor="end">{last}</text>
    };
    figure(text, points, scale, drawing.into_any())
}

/// One bar per point, labelled under the bar when there is room.
#[component]
pub fn BarChart(text: ChartText, points: Vec<Point>, scale: Scale) -> impl IntoView {
    let bounds = scale.bounds(&points);
    let n = points.len().max(1);
    let slot = (W - LEFT - RIGHT) / n as f64;
    let width = (slot * 0.7).max(1.0);
    let zero = y_of(0.0_f64.clamp(bounds.0, bounds.1), bounds);
    // Labels under bars only when they can be read; the table always has them.
    let show_labels = n <= 8;
    let bars = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = LEFT + slot * i as f64 + (slot - width) / 2.0;
            let y = y_of(p.value, bounds);
            let (top, height) = if y < zero { (y, zero - y) } else { (zero, y - zero) };
            let label = format!("{}: {}", p.label, scale.format(p.value));
            let short: String = p.label.chars().take(10).collect();
            let class = if p.value < 0.0 { "chart-bar chart-bar-negative" } else { "chart-bar" };
            view! {
                <rect class=class x=x y=top width=width height=height.max(0.5)><title>{label}</title></rect>
                {show_labels.then(|| view! {
                    <text class="chart-label" x=x + width / 2.0 y=H - 6.0 text-anchor="middle">{short}</text>
                })}
            }
        })
        .collect_view();
    figure(text, points, scale, bars.into_any())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_bounds_are_round() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(3.0), 5.0);
        assert_eq!(nice_ceiling(17.0), 20.0);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(f64::NAN), 1.0);
        let pts = vec![Point {
            label: "a".into(),
            value: -0.2,
        }];
        assert_eq!(Scale::Change.bounds(&pts), (-0.2, 0.2));
        assert_eq!(Scale::Percent.format(0.96), "96 %");
        assert_eq!(Scale::Change.format(0.05), "+5 pts");
    }

    #[test]
    fn values_map_inside_the_plot() {
        let b = (0.0, 1.0);
        assert_eq!(y_of(1.0, b), TOP);
        assert_eq!(y_of(0.0, b), H - BOTTOM);
        assert_eq!(y_of(7.0, b), TOP);
    }
}
