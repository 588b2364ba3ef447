//! The shared cloud initialisation: the library's own `wx.cloud.Cloud`
//! instance is initialised once per client, awaited by every cloud request
//! and every cloud socket, retried 3 times 300 ms apart (as the seed and the
//! official wrapper do), each attempt bounded by [`INIT_TIMEOUT_MS`], and
//! forgotten after a final failure so that the next request or socket tries
//! again. An instance the app gave (`cloud`) is the
//! app's to initialise: it counts as ready from the start, and is never
//! initialised again.

use super::engine::RequestId;
use crate::prelude::*;

/// Retries after a failed init.
pub const INIT_RETRIES: u32 = 3;
/// Pause between init attempts.
pub const INIT_RETRY_DELAY_MS: u32 = 300;
/// How long one init attempt may run: an `init()` that never settles counts
/// as failed then (and its late answer is ignored), so that it cannot hold
/// every cloud request and socket of the client for good. Four attempts and
/// their pauses fit in a request's default 30 s deadline.
pub const INIT_TIMEOUT_MS: u32 = 5_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Idle,
    Running,
    Waiting,
    Ready,
}

/// What the engine must do about init.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InitStep {
    /// Run init (attempt number, 1-based).
    Run(u32),
    /// Init is under way; the request waits for it.
    Wait,
    /// Ready: the request may be sent.
    Ready,
}

/// Init state plus the requests (and whether sockets) waiting for it.
#[derive(Debug)]
pub struct CloudInit {
    state: State,
    failures: u32,
    parked: Vec<RequestId>,
    /// A socket waits for the init (its connect goes on when it ends).
    sockets: bool,
    /// The app's own instance: ready from the start, never initialised here.
    given: bool,
}

impl Default for CloudInit {
    fn default() -> Self {
        CloudInit::new(false)
    }
}

impl CloudInit {
    /// `given`: the app's own instance, which the app initialises.
    pub fn new(given: bool) -> Self {
        CloudInit {
            state: if given { State::Ready } else { State::Idle },
            failures: 0,
            parked: Vec::new(),
            sockets: false,
            given,
        }
    }

    /// A cloud socket wants to connect: go ahead, or wait (starting init if
    /// needed). Sockets wait together: `sockets_waited` says when to tell them.
    pub fn socket(&mut self) -> InitStep {
        match self.state {
            State::Ready => InitStep::Ready,
            State::Idle => {
                self.state = State::Running;
                self.sockets = true;
                InitStep::Run(self.failures + 1)
            }
            State::Running | State::Waiting => {
                self.sockets = true;
                InitStep::Wait
            }
        }
    }

    /// Whether sockets waited for the init that just ended (they are told once).
    pub fn sockets_waited(&mut self) -> bool {
        core::mem::take(&mut self.sockets)
    }

    /// A cloud request wants to send: go ahead, or wait (starting init if needed).
    pub fn request(&mut self, id: RequestId) -> InitStep {
        match self.state {
            State::Ready => InitStep::Ready,
            State::Idle => {
                self.state = State::Running;
                self.parked.push(id);
                InitStep::Run(self.failures + 1)
            }
            State::Running | State::Waiting => {
                self.parked.push(id);
                InitStep::Wait
            }
        }
    }

    /// Init succeeded: the requests that waited, in order.
    pub fn succeeded(&mut self) -> Vec<RequestId> {
        self.state = State::Ready;
        self.failures = 0;
        core::mem::take(&mut self.parked)
    }

    /// Init failed: retry later (`Ok(delay)`), or give up and fail the waiting requests (`Err`).
    pub fn failed(&mut self) -> Result<u32, Vec<RequestId>> {
        self.failures += 1;
        if self.failures <= INIT_RETRIES {
            self.state = State::Waiting;
            Ok(INIT_RETRY_DELAY_MS)
        } else {
            self.state = State::Idle;
            self.failures = 0;
            Err(core::mem::take(&mut self.parked))
        }
    }

    /// The retry pause is over: the attempt number to run, if a retry was due.
    pub fn retry_due(&mut self) -> Option<u32> {
        (self.state == State::Waiting).then(|| {
            self.state = State::Running;
            self.failures + 1
        })
    }

    /// The platform said the cloud is not initialised after all: start over
    /// (not for the app's own instance: its init is the app's).
    pub fn invalidate(&mut self) {
        if self.state == State::Ready && !self.given {
            self.state = State::Idle;
        }
    }

    /// A waiting request was cancelled.
    pub fn forget(&mut self, id: RequestId) {
        self.parked.retain(|p| *p != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_init_for_concurrent_requests() {
        let mut init = CloudInit::default();
        assert_eq!(init.request(1), InitStep::Run(1));
        assert_eq!(init.request(2), InitStep::Wait);
        assert_eq!(init.succeeded(), vec![1, 2]);
        assert_eq!(init.request(3), InitStep::Ready);
    }

    #[test]
    fn three_retries_then_the_waiting_fail_and_the_next_request_starts_over() {
        let mut init = CloudInit::default();
        assert_eq!(init.request(1), InitStep::Run(1));
        for attempt in 2..=4 {
            assert_eq!(init.failed(), Ok(INIT_RETRY_DELAY_MS));
            assert_eq!(init.request(attempt + 10), InitStep::Wait);
            assert_eq!(init.retry_due(), Some(attempt));
        }
        assert_eq!(init.failed(), Err(vec![1, 12, 13, 14]));
        assert_eq!(init.request(5), InitStep::Run(1), "not poisoned");
    }

    #[test]
    fn sockets_share_the_requests_init_and_hear_its_end_once() {
        let mut init = CloudInit::default();
        assert_eq!(init.socket(), InitStep::Run(1), "a socket alone starts it");
        assert_eq!(init.request(1), InitStep::Wait, "a request joins it");
        assert_eq!(init.socket(), InitStep::Wait);
        assert_eq!(init.failed(), Ok(INIT_RETRY_DELAY_MS));
        assert_eq!(init.retry_due(), Some(2));
        assert_eq!(init.succeeded(), vec![1]);
        assert!(init.sockets_waited());
        assert!(!init.sockets_waited(), "told once");
        assert_eq!(init.socket(), InitStep::Ready);
        assert!(!init.sockets_waited(), "a ready socket did not wait");
    }

    #[test]
    fn a_given_instance_is_ready_from_the_start_and_stays_so() {
        let mut init = CloudInit::new(true);
        assert_eq!(init.request(1), InitStep::Ready);
        assert_eq!(init.socket(), InitStep::Ready);
        init.invalidate();
        assert_eq!(
            init.request(2),
            InitStep::Ready,
            "the app's init, never redone here"
        );
    }

    #[test]
    fn invalidation_and_cancellation() {
        let mut init = CloudInit::default();
        init.request(1);
        init.request(2);
        init.forget(1);
        assert_eq!(init.succeeded(), vec![2]);
        init.invalidate();
        assert_eq!(init.request(3), InitStep::Run(1));
        assert_eq!(init.retry_due(), None, "no retry pending");
    }
}
