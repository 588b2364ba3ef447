//! The defaults the README's option table and the d.ts state are the core's.
#![cfg(not(target_arch = "wasm32"))]

use mp_request::core::cache::store::Limits;
use mp_request::core::config::DEFAULT_TIMEOUT_MS;
use mp_request::core::engine::CLOUD_MAX_TIMEOUT_MS;
use mp_request::core::offline::{DEFAULT_MAX_BYTES, DEFAULT_MAX_ITEMS};
use mp_request::core::resilience::{BreakerConfig, BudgetConfig};
use mp_request::core::retry::RetryPolicy;
use mp_request::core::scheduler::DEFAULT_MAX_CONCURRENT;
use mp_request::core::socket::config::SocketConfig;

const README: &str = include_str!("../README.md");
const DTS: &str = include_str!("../js-shim/types/index.d.ts");

/// The README's option table row of `option`.
fn row(option: &str) -> &'static str {
    README
        .lines()
        .find(|l| l.starts_with(&format!("| `{option}` |")))
        .unwrap_or_else(|| panic!("README: no row for `{option}`"))
}

/// The d.ts with its comments joined into one line each (no ` * ` breaks).
fn dts() -> String {
    DTS.lines()
        .map(|l| {
            let l = l.trim().trim_start_matches("/**").trim_end_matches("*/");
            l.trim().trim_start_matches('*').trim()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn has(text: &str, needle: &str, what: &str) {
    assert!(text.contains(needle), "{what}: {needle:?} not stated");
}

#[test]
fn the_readme_option_table_states_the_core_defaults() {
    let r = RetryPolicy::DEFAULT;
    has(
        row("retry"),
        &format!(
            "`{{ limit: {}, baseMs: {}, capMs: {}, deadlineMs: {} }}`",
            r.limit, r.backoff.base_ms, r.backoff.cap_ms, r.deadline_ms
        ),
        "retry",
    );
    let b = BudgetConfig::DEFAULT;
    has(
        row("retryBudget"),
        &format!(
            "`{{ capacity: {}, retryCost: {}, timeoutCost: {}, successRefill: {} }}`",
            b.capacity, b.retry_cost, b.timeout_cost, b.success_refill
        ),
        "retryBudget",
    );
    let k = BreakerConfig::DEFAULT;
    has(
        row("breaker"),
        &format!(
            "`{{ windowMs: {}, minCalls: {}, failureRatio: {}, openMs: {} }}`",
            k.window_ms, k.min_calls, k.failure_ratio, k.open_ms
        ),
        "breaker",
    );
    has(
        row("maxConcurrent"),
        &format!("| {DEFAULT_MAX_CONCURRENT} |"),
        "maxConcurrent",
    );
    has(
        row("offlineQueue"),
        &format!(
            "`{{ maxItems: {DEFAULT_MAX_ITEMS}, maxBytes: {} KB }}`",
            DEFAULT_MAX_BYTES / 1024
        ),
        "offlineQueue",
    );
    has(
        row("timeoutMs"),
        &format!("| {DEFAULT_TIMEOUT_MS} |"),
        "timeoutMs",
    );
    has(
        row("timeoutMs"),
        &format!("caps it at {CLOUD_MAX_TIMEOUT_MS}"),
        "timeoutMs",
    );
    let c = Limits::DEFAULT;
    has(
        row("cache"),
        &format!(
            "`{{ maxEntries: {}, maxBytes: {} MB }}`",
            c.max_entries,
            c.max_bytes >> 20
        ),
        "cache",
    );
}

#[test]
fn the_dts_states_the_core_defaults() {
    let d = dts();
    let b = BudgetConfig::DEFAULT;
    has(
        &d,
        &format!(
            "Default on: {} tokens, {} per retry, {} after a timeout, {} back per success",
            b.capacity, b.retry_cost, b.timeout_cost, b.success_refill
        ),
        "retryBudget",
    );
    let k = BreakerConfig::DEFAULT;
    has(
        &d,
        &format!(
            "Default on: failureRatio {}, minCalls {}, windowMs {}, openMs {}",
            k.failure_ratio, k.min_calls, k.window_ms, k.open_ms
        ),
        "breaker",
    );
    has(
        &d,
        &format!("Default {DEFAULT_MAX_CONCURRENT}, wx.request's limit"),
        "maxConcurrent",
    );
    has(
        &d,
        &format!(
            "maxItems 1..1000 ({DEFAULT_MAX_ITEMS}), maxBytes 1024..1024000 ({} KB)",
            DEFAULT_MAX_BYTES / 1024
        ),
        "offlineQueue",
    );
    has(
        &d,
        &format!("Default {DEFAULT_TIMEOUT_MS}; the cloud link caps it at {CLOUD_MAX_TIMEOUT_MS}"),
        "timeoutMs",
    );
    let s = SocketConfig::DEFAULT;
    has(
        &d,
        &format!(
            "from minDelayMs ({}) growing by factor ({}) up to maxDelayMs ({})",
            s.min_delay_ms,
            f64::from(s.factor_tenths) / 10.0,
            s.max_delay_ms
        ),
        "socket backoff",
    );
    has(
        &d,
        &format!(
            "Default {}. connectTimeoutMs?: number;",
            s.connect_timeout_ms
        ),
        "socket connectTimeoutMs",
    );
    has(
        &d,
        &format!(
            "The backoff starts over after a connection lasted this long (default {})",
            s.min_uptime_ms
        ),
        "socket minUptimeMs",
    );
    has(
        &d,
        &format!(
            "Outbox bounds (default {} messages, {} MB)",
            s.outbox_max_messages,
            s.outbox_max_bytes >> 20
        ),
        "socket outbox",
    );
}
