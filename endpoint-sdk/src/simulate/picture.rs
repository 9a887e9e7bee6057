//! The report as a picture: one self-contained HTML page (inline SVG, no script, no fetch) with
//! the requests' latency over time and, per endpoint, its workers and queue over time, one line
//! per variant; the terminal table below.

use std::fmt::Write as _;

use super::report::{Report, VariantReport};

/// Line colours of the variants, in order (then again).
const COLORS: [&str; 6] = [
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2",
];
const WIDTH: f64 = 880.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 28.0;
const RIGHT: f64 = 36.0;

/// One line of a chart: its variant's index, whether dashed, and its points (seconds, value).
struct Line {
    variant: usize,
    dashed: bool,
    points: Vec<(f64, f64)>,
}

impl Report {
    /// The report as a self-contained HTML page.
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        let title = format!("{}: simulated {}", self.app, self.traffic);
        let _ = write!(
            out,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
             <style>body{{font:14px system-ui,sans-serif;margin:24px;color:#111}}\
             h1{{font-size:18px}}h2{{font-size:15px;margin:20px 0 4px}}\
             .key span{{margin-right:16px}}pre{{background:#f6f6f6;padding:12px;overflow:auto}}\
             svg text{{font-size:11px;fill:#444}}</style></head><body><h1>{}</h1>",
            escape(&title),
            escape(&title)
        );
        let _ = write!(
            out,
            "<p>seed {} · prices as of {} · solid: p95 or workers; dashed: p50 or queued jobs</p>\
             <p class=\"key\">",
            self.seed, self.prices_as_of
        );
        for (i, v) in self.variants.iter().enumerate() {
            let _ = write!(
                out,
                "<span style=\"color:{}\">━ {}</span>",
                COLORS[i % COLORS.len()],
                escape(&v.name)
            );
        }
        out.push_str("</p><h2>Requests answered per hour</h2>");
        let window = self
            .variants
            .first()
            .and_then(|v| Some(v.timeline.get(1)?.at_s - v.timeline.first()?.at_s))
            .unwrap_or(1.0)
            .max(1.0);
        let mut lines = Vec::new();
        for (i, v) in self.variants.iter().enumerate() {
            lines.push(series(v, i, false, |r| {
                Some(r.ended as f64 * 3600.0 / window)
            }));
        }
        out.push_str(&chart(&lines, "/h"));
        out.push_str("<h2>Request latency over time (p95 solid, p50 dashed)</h2>");
        let mut lines = Vec::new();
        for (i, v) in self.variants.iter().enumerate() {
            lines.push(series(v, i, false, |r| {
                (r.ended > 0).then_some(r.p95_ms / 1e3)
            }));
            lines.push(series(v, i, true, |r| {
                (r.ended > 0).then_some(r.p50_ms / 1e3)
            }));
        }
        out.push_str(&chart(&lines, "s"));
        let names: Vec<&str> = self
            .variants
            .first()
            .map(|v| v.endpoints.iter().map(|e| e.name.as_str()).collect())
            .unwrap_or_default();
        for (e, name) in names.iter().enumerate() {
            let _ = write!(
                out,
                "<h2>{}: workers alive (solid) and jobs queued (dashed)</h2>",
                escape(name)
            );
            let mut lines = Vec::new();
            for (i, v) in self.variants.iter().enumerate() {
                lines.push(series(v, i, false, |r| {
                    r.endpoints
                        .get(e)
                        .map(|w| f64::from(w.starting + w.idle + w.running))
                }));
                lines.push(series(v, i, true, |r| {
                    r.endpoints.get(e).map(|w| f64::from(w.queued))
                }));
            }
            out.push_str(&chart(&lines, ""));
        }
        let _ = writeln!(
            out,
            "<h2>Report</h2><pre>{}</pre></body></html>",
            escape(&self.to_table())
        );
        out
    }
}

fn series(
    v: &VariantReport,
    variant: usize,
    dashed: bool,
    y: impl Fn(&super::report::TimelineRow) -> Option<f64>,
) -> Line {
    Line {
        variant,
        dashed,
        points: v
            .timeline
            .iter()
            .filter_map(|r| Some((r.at_s, y(r)?)))
            .collect(),
    }
}

/// An SVG line chart of `lines`, time on x (in hours when longer than two), `unit` on y.
fn chart(lines: &[Line], unit: &str) -> String {
    let x_max = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0_f64, f64::max);
    // Counts get whole-number grid lines (four of them); other values a round top.
    let y_max = if unit.is_empty() {
        (top / 4.0).ceil().max(1.0) * 4.0
    } else {
        nice(top)
    };
    let (plot_w, plot_h) = (WIDTH - LEFT - RIGHT, HEIGHT - BOTTOM - 10.0);
    let px = |x: f64| LEFT + x / x_max * plot_w;
    let py = |y: f64| 10.0 + plot_h - y / y_max * plot_h;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\">"
    );
    let hours = x_max > 7200.0;
    for k in 0..=4 {
        let y = y_max * f64::from(k) / 4.0;
        let _ = write!(
            svg,
            "<line x1=\"{LEFT}\" x2=\"{x2}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e5e5e5\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}{unit}</text>",
            x2 = WIDTH - RIGHT,
            yy = py(y),
            tx = LEFT - 6.0,
            ty = py(y) + 4.0,
            label = short(y)
        );
        let x = x_max * f64::from(k) / 4.0;
        let label = if hours {
            format!("{:.1} h", x / 3600.0)
        } else {
            format!("{:.0} min", x / 60.0)
        };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
            px(x),
            HEIGHT - 8.0
        );
    }
    for line in lines.iter().filter(|l| !l.points.is_empty()) {
        let d: Vec<String> = line
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", px(x), py(y)))
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\"{} points=\"{}\"/>",
            COLORS[line.variant % COLORS.len()],
            if line.dashed {
                " stroke-dasharray=\"4 3\" opacity=\"0.8\""
            } else {
                ""
            },
            d.join(" ")
        );
    }
    svg.push_str("</svg>");
    svg
}

/// The smallest of 1, 2, 5 × 10ⁿ at least `v` (an axis's top).
fn nice(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&c| c >= v)
        .unwrap_or(10.0 * p)
}

fn short(v: f64) -> String {
    if v == v.trunc() {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::nice;

    #[test]
    fn axis_tops_are_round() {
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(3.2), 5.0);
        assert_eq!(nice(17.0), 20.0);
        assert_eq!(nice(100.0), 100.0);
    }
}
