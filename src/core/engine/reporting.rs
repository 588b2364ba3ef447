//! Fleet reports inside the engine (`report: { path, everyMs, sample }`):
//! every `everyMs` and when the app goes to the background, what the
//! statistics gained since the last report goes out as one small POST. The
//! report's fetch has no callers and no statistics row; it goes at low
//! priority, is retried at most once (with the same text and
//! `Idempotency-Key`, so the endpoint can count it once), never goes to the offline queue, and
//! is not sent in mock mode. A report that is not sent is put back and is
//! part of the next one (bounded: deltas are per row, and rows are bounded).

use super::*;
use crate::core::report::{
    device_id, encode, platform_name, sampled, Context, ReportConfig, REPORT_DEADLINE_MS,
};
use crate::core::request::wire;
use crate::core::stats::{Row, NO_SLOT};

/// Where the shim keeps the device's id for reports.
pub const DEVICE_KEY: &str = "mp-request:device";

/// The report state of a client with `report` on.
#[derive(Debug)]
pub(super) struct Reporting {
    config: ReportConfig,
    context: Context,
    device: String,
    /// This launch's nonce (8 hex digits from the seed), in every report's key.
    launch: String,
    /// Sampled in, and the report's route is a network one: reports go.
    on: bool,
    /// Reports made so far.
    seq: u64,
    /// The report in flight: its fetch and the deltas it carries.
    in_flight: Option<(RequestId, Vec<(Slot, Row)>)>,
}

impl<V: Clone + Weigh> Engine<V> {
    /// Starts fleet reports, if `report` is on: the device's id (the one
    /// storage held, if it is one) and the first timer. Returns the id for
    /// the shim to keep in storage (None without `report`), and the commands.
    pub fn start_reports(
        &mut self,
        stored_device: Option<&str>,
        build: &str,
        app_version: Option<&str>,
    ) -> (Option<String>, Vec<Command<V>>) {
        let Some(config) = self.config.report.clone() else {
            return (None, Vec::new());
        };
        if let Some(reporting) = &self.reporting {
            return (Some(reporting.device.clone()), Vec::new());
        }
        let device = device_id(stored_device, self.seed);
        let network = route::choose(
            &self.config,
            &self.platform,
            None,
            Method::Post,
            &config.path,
        )
        .is_ok_and(|choice| choice.route != Route::Mock);
        let on = network && sampled(&device, config.sample);
        let context = Context {
            platform: platform_name(&self.platform, build),
            sdk: self.platform.sdk_text(),
            app: app_version.unwrap_or("").to_owned(),
            env: self.platform.env_version.clone().unwrap_or_default(),
            build: build.to_owned(),
        };
        let every_ms = config.every_ms;
        self.reporting = Some(Reporting {
            config,
            context,
            device: device.clone(),
            launch: device_id(None, self.seed ^ 0x5eed)[..8].to_owned(),
            on,
            seq: 0,
            in_flight: None,
        });
        if !on {
            return (Some(device), Vec::new());
        }
        self.stats.keep_deltas();
        (
            Some(device),
            vec![Command::WaitReport { delay_ms: every_ms }],
        )
    }

    /// Reports go from this client (sampled in, on a network route).
    pub fn reports_on(&self) -> bool {
        self.reporting.as_ref().is_some_and(|r| r.on)
    }

    /// The report timer fired: a report goes if there is anything to say,
    /// and the next timer is armed.
    pub fn on_report_timer(&mut self, now_ms: f64) -> Vec<Command<V>> {
        let Some(every_ms) = self
            .reporting
            .as_ref()
            .filter(|r| r.on)
            .map(|r| r.config.every_ms)
        else {
            return Vec::new();
        };
        let mut commands = self.send_report(now_ms);
        commands.push(Command::WaitReport { delay_ms: every_ms });
        commands
    }

    /// A report of what the statistics gained, unless one is in flight or
    /// there is nothing to say.
    pub(super) fn send_report(&mut self, now_ms: f64) -> Vec<Command<V>> {
        let Some(reporting) = self
            .reporting
            .as_ref()
            .filter(|r| r.on && r.in_flight.is_none())
        else {
            return Vec::new();
        };
        let path = reporting.config.path.clone();
        let taken: Vec<(Slot, Row)> = self
            .stats
            .take_deltas()
            .into_iter()
            .filter(|(_, row)| row.route != Route::Mock)
            .collect();
        if taken.is_empty() {
            return Vec::new();
        }
        let choice = route::choose(&self.config, &self.platform, None, Method::Post, &path);
        let reporting = self.reporting.as_mut().expect("reporting");
        reporting.seq += 1;
        let text = encode(
            reporting.seq,
            &reporting.device,
            &reporting.context,
            taken.iter().map(|(_, row)| row.clone()).collect(),
        );
        let (choice, sent) = match choice.and_then(|c| {
            let sent = wire(Method::Post, &path, Some(text), None, None)?;
            Ok((c, sent))
        }) {
            Ok(parts) if parts.0.route != Route::Mock => parts,
            // Not on a network route after all: this report is dropped.
            _ => return Vec::new(),
        };
        let id = self.new_id();
        // Its retry sends the same text and key, so the endpoint can count it
        // once; the launch's nonce keeps the keys of other launches (and of
        // other clients of the app) apart, whose `seq` also starts at 1.
        let reporting = self.reporting.as_ref().expect("reporting");
        let key = format!(
            "report-{}-{}-{}",
            reporting.device, reporting.launch, reporting.seq
        );
        let retry = RetryPolicy {
            limit: 1,
            deadline_ms: REPORT_DEADLINE_MS,
            ..self.config.retry
        };
        let (timeout_ms, clamped_from, url) =
            self.transport(choice.route, self.config.timeout_ms, &sent.target);
        self.fetches.insert(
            id,
            Box::new(Fetch {
                choice,
                method: Method::Post,
                path: path.clone(),
                target: sent.target,
                headers: Vec::new(),
                body: sent.body,
                body_kept: false,
                client_headers: None,
                user_epoch: self.user_epoch,
                idempotency_key: Some(key),
                idempotent: true,
                retry,
                timeout_ms,
                clamped_from,
                url,
                attempts: 0,
                started_ms: now_ms,
                phase: Phase::Waiting,
                callers: Vec::new(),
                caching: None,
                slot: NO_SLOT,
                probe: false,
                last_cost: 0,
                priority: Priority::Low,
                lane: None,
                queueable: false,
                replay: None,
                report: true,
                revalidate: None,
                trace: None,
            }),
        );
        self.reporting.as_mut().expect("reporting").in_flight = Some((id, taken));
        let mut commands = vec![Command::Report { id }];
        commands.extend(self.attempt(id, now_ms));
        commands
    }

    /// The client is destroyed: no more reports, and the one in flight (or
    /// waiting for the app to come back) is dropped, so that nothing keeps
    /// the engine alive.
    pub fn stop_reports(&mut self, now_ms: f64) -> Vec<Command<V>> {
        let Some(reporting) = &mut self.reporting else {
            return Vec::new();
        };
        reporting.on = false;
        match reporting.in_flight.take() {
            Some((id, _)) => self.abandon(id, now_ms),
            None => Vec::new(),
        }
    }

    /// The report of fetch `id` ended: sent, or put back for the next one.
    pub(super) fn report_ended(&mut self, id: RequestId, sent: bool) {
        let Some(reporting) = &mut self.reporting else {
            return;
        };
        if reporting.in_flight.as_ref().map(|(f, _)| *f) != Some(id) {
            return;
        }
        let (_, taken) = reporting.in_flight.take().expect("in flight");
        if !sent {
            self.stats.restore_deltas(taken);
        }
    }
}
