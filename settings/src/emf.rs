//! CloudWatch embedded-metric-format lines: printed to stdout in Lambda, CloudWatch Logs turns each into
//! metrics of the namespace, with the dimension `Stage`. No API call, no cost per metric put.

use serde_json::{Map, Value, json};

/// A metric's unit as CloudWatch names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A count.
    Count,
    /// A duration in milliseconds.
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

/// One line declaring and carrying `metrics` (name, unit, value) for `stage` at `timestamp_ms`.
pub fn line(namespace: &str, stage: &str, metrics: &[(&str, Unit, f64)], timestamp_ms: i64) -> String {
    let declared: Vec<Value> =
        metrics.iter().map(|(name, unit, _)| json!({"Name": name, "Unit": unit.as_str()})).collect();
    let mut object = Map::new();
    object.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [["Stage"]], "Metrics": declared}]
        }),
    );
    object.insert("Stage".into(), stage.into());
    for (name, _, value) in metrics {
        // Whole numbers as integers; durations to the microsecond.
        let value = if value.fract() == 0.0 {
            json!(*value as i64)
        } else {
            json!((value * 1000.0).round() / 1000.0)
        };
        object.insert((*name).to_owned(), value);
    }
    Value::Object(object).to_string()
}
