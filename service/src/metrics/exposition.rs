//! The Prometheus text exposition format (version 0.0.4): one `# HELP` and
//! `# TYPE` per family, then its samples.

use std::fmt::Write;

use scute_storage::stats::Snapshot;

/// The content type scrapers ask for and get.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A page being written.
#[derive(Debug, Default)]
pub(crate) struct Page {
    text: String,
}

impl Page {
    /// Starts a family: every sample after it until the next is one of it.
    pub(crate) fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", escape_help(help));
        let _ = writeln!(self.text, "# TYPE {name} {}", kind.as_str());
    }

    pub(crate) fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        self.labels(labels, None);
        self.text.push(' ');
        self.value(value);
        self.text.push('\n');
    }

    /// A family of one unlabelled sample.
    pub(crate) fn single(&mut self, name: &str, kind: Kind, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &[], value);
    }

    /// The `_bucket`, `_sum` and `_count` samples of one histogram.
    pub(crate) fn histogram(&mut self, name: &str, labels: &[(&str, &str)], snapshot: &Snapshot) {
        for (bound, count) in &snapshot.buckets {
            let le = if bound.is_infinite() {
                "+Inf".to_owned()
            } else {
                bound.to_string()
            };
            let _ = write!(self.text, "{name}_bucket");
            self.labels(labels, Some(&le));
            let _ = writeln!(self.text, " {count}");
        }
        let _ = write!(self.text, "{name}_sum");
        self.labels(labels, None);
        self.text.push(' ');
        self.value(snapshot.sum);
        self.text.push('\n');
        let _ = write!(self.text, "{name}_count");
        self.labels(labels, None);
        let _ = writeln!(self.text, " {}", snapshot.count);
    }

    pub(crate) fn finish(self) -> String {
        self.text
    }

    fn labels(&mut self, labels: &[(&str, &str)], le: Option<&str>) {
        if labels.is_empty() && le.is_none() {
            return;
        }
        self.text.push('{');
        let mut first = true;
        for (name, value) in labels.iter().copied().chain(le.map(|le| ("le", le))) {
            if !first {
                self.text.push(',');
            }
            first = false;
            self.text.push_str(name);
            self.text.push_str("=\"");
            escape_value(&mut self.text, value);
            self.text.push('"');
        }
        self.text.push('}');
    }

    fn value(&mut self, value: f64) {
        if value.is_nan() {
            self.text.push_str("NaN");
        } else if value.is_infinite() {
            self.text
                .push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
        } else {
            let _ = write!(self.text, "{value}");
        }
    }
}

fn escape_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut page = Page::default();
        page.family("x_total", Kind::Counter, "a \\ help\nline");
        page.sample("x_total", &[("route", "a\"b\\c\nd")], 2.0);
        assert_eq!(
            page.finish(),
            "# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\nx_total{route=\"a\\\"b\\\\c\\nd\"} 2\n"
        );
    }

    #[test]
    fn a_histogram_has_buckets_sum_and_count() {
        let h = scute_storage::stats::Histogram::new(&[0.5]);
        h.observe(0.25);
        h.observe(2.0);
        let mut page = Page::default();
        page.histogram("d_seconds", &[("api", "rest")], &h.snapshot());
        assert_eq!(
            page.finish(),
            "d_seconds_bucket{api=\"rest\",le=\"0.5\"} 1\n\
             d_seconds_bucket{api=\"rest\",le=\"+Inf\"} 2\n\
             d_seconds_sum{api=\"rest\"} 2.25\n\
             d_seconds_count{api=\"rest\"} 2\n"
        );
    }
}
