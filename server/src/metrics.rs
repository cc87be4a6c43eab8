//! Prometheus metrics: request counts and latency histograms by route, method and status.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{Arc, Mutex},
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

#[derive(Default)]
pub struct Metrics {
    // (route, method, status) -> series. Routes come from the router's patterns, never raw
    // paths, so the label set stays bounded whatever clients request.
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
    started: Option<Instant>,
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            series: Mutex::default(),
            started: Some(Instant::now()),
        }
    }

    pub fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        let Ok(mut map) = self.series.lock() else {
            return;
        };
        let s = map
            .entry((route.to_string(), method.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, le) in BUCKETS.iter().enumerate() {
            if seconds <= *le {
                s.buckets[i] += 1;
            }
        }
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP pairwise_uptime_seconds Seconds since the process started."
        );
        let _ = writeln!(out, "# TYPE pairwise_uptime_seconds gauge");
        let uptime = self.started.map_or(0.0, |s| s.elapsed().as_secs_f64());
        let _ = writeln!(out, "pairwise_uptime_seconds {uptime:.3}");
        let _ = writeln!(
            out,
            "# HELP pairwise_http_requests_total HTTP requests by route, method and status."
        );
        let _ = writeln!(out, "# TYPE pairwise_http_requests_total counter");
        let Ok(map) = self.series.lock() else {
            return out;
        };
        for ((route, method, status), s) in map.iter() {
            let _ = writeln!(
                out,
                "pairwise_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {}",
                escape(route),
                s.count
            );
        }
        let _ = writeln!(
            out,
            "# HELP pairwise_http_request_duration_seconds Request latency by route and method."
        );
        let _ = writeln!(
            out,
            "# TYPE pairwise_http_request_duration_seconds histogram"
        );
        // Merge statuses: latency is reported per route and method.
        let mut merged: BTreeMap<(&str, &str), Series> = BTreeMap::new();
        for ((route, method, _), s) in map.iter() {
            let m = merged.entry((route.as_str(), method.as_str())).or_default();
            m.count += s.count;
            m.sum += s.sum;
            for (i, b) in s.buckets.iter().enumerate() {
                m.buckets[i] += b;
            }
        }
        for ((route, method), s) in merged {
            let labels = format!("route=\"{}\",method=\"{method}\"", escape(route));
            for (i, le) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "pairwise_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "pairwise_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "pairwise_http_request_duration_seconds_sum{{{labels}}} {:.6}",
                s.sum
            );
            let _ = writeln!(
                out,
                "pairwise_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "static".to_string(), |p| p.as_str().to_string());
    // Only methods we answer become labels: a client inventing methods must not grow the
    // metrics without bound.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m,
        _ => "other",
    }
    .to_string();
    let start = Instant::now();
    let res = next.run(req).await;
    metrics.observe(
        &route,
        &method,
        res.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets_are_rendered_per_route() {
        let m = Metrics::new();
        m.observe("/api/sign_in", "POST", 200, 0.004);
        m.observe("/api/sign_in", "POST", 401, 0.2);
        let text = m.render();
        assert!(text.contains(
            "pairwise_http_requests_total{route=\"/api/sign_in\",method=\"POST\",status=\"401\"} 1"
        ));
        assert!(text.contains("pairwise_http_request_duration_seconds_bucket{route=\"/api/sign_in\",method=\"POST\",le=\"0.005\"} 1"));
        assert!(text.contains(
            "pairwise_http_request_duration_seconds_count{route=\"/api/sign_in\",method=\"POST\"} 2"
        ));
    }
}
