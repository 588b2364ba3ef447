//! The retry budget: a token bucket, as in the AWS SDKs' "standard" retry
//! mode. A retry spends tokens (after a timeout more, since a service that
//! times out is the one most hurt by more load); a success puts back what
//! its last retry spent, or a token if it needed no retry. When the bucket
//! cannot pay, the failure is returned as it is. So a backend that fails
//! everything sees about `capacity / retry_cost` retries in all, however
//! many requests arrive, instead of `limit` times its load.

use crate::core::error::RequestError;
use crate::core::request::whole_or;

/// The bucket's size and prices.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetConfig {
    /// Tokens when full (and at start).
    pub capacity: u32,
    /// A retry after any retryable failure but a timeout.
    pub retry_cost: u32,
    /// A retry after a timeout.
    pub timeout_cost: u32,
    /// Put back by a success that needed no retry.
    pub success_refill: u32,
}

impl BudgetConfig {
    /// The AWS SDKs' defaults: 500 tokens, 5 per retry, 10 after a timeout,
    /// 1 back per success. A dead backend gets at most 100 retries (50
    /// after timeouts) until successes refill the bucket.
    pub const DEFAULT: BudgetConfig = BudgetConfig {
        capacity: 500,
        retry_cost: 5,
        timeout_cost: 10,
        success_refill: 1,
    };
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig::DEFAULT
    }
}

/// `retryBudget` as given: false, or an object overriding the defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawBudget {
    /// `retryBudget: false`
    pub disabled: bool,
    /// `capacity`
    pub capacity: Option<f64>,
    /// `retryCost`
    pub retry_cost: Option<f64>,
    /// `timeoutCost`
    pub timeout_cost: Option<f64>,
    /// `successRefill`
    pub success_refill: Option<f64>,
}

impl RawBudget {
    /// The budget, or None when disabled.
    pub fn validate(self) -> Result<Option<BudgetConfig>, RequestError> {
        if self.disabled {
            return Ok(None);
        }
        let d = BudgetConfig::DEFAULT;
        let capacity = whole_or(
            "retryBudget.capacity",
            self.capacity,
            1,
            100_000,
            d.capacity,
        )?;
        let cost = |name: &'static str, value, default: u32| {
            whole_or(name, value, 0, capacity, default.min(capacity))
        };
        Ok(Some(BudgetConfig {
            capacity,
            retry_cost: cost("retryBudget.retryCost", self.retry_cost, d.retry_cost)?,
            timeout_cost: cost("retryBudget.timeoutCost", self.timeout_cost, d.timeout_cost)?,
            success_refill: cost(
                "retryBudget.successRefill",
                self.success_refill,
                d.success_refill,
            )?,
        }))
    }
}

/// One service's bucket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    config: BudgetConfig,
    tokens: u32,
}

impl Budget {
    /// A full bucket.
    pub fn new(config: BudgetConfig) -> Self {
        Budget {
            config,
            tokens: config.capacity,
        }
    }

    /// Pays for a retry after a failure (a timeout when `timed_out`): the
    /// tokens spent, or None when the bucket cannot pay (then nothing is spent).
    pub fn withdraw(&mut self, timed_out: bool) -> Option<u32> {
        let cost = if timed_out {
            self.config.timeout_cost
        } else {
            self.config.retry_cost
        };
        self.tokens = self.tokens.checked_sub(cost)?;
        Some(cost)
    }

    /// What a retry after a failure (a timeout when `timed_out`) would cost:
    /// None when the bucket cannot pay it. Nothing is spent.
    pub fn quote(&self, timed_out: bool) -> Option<u32> {
        let cost = if timed_out {
            self.config.timeout_cost
        } else {
            self.config.retry_cost
        };
        (self.tokens >= cost).then_some(cost)
    }

    /// A request succeeded; `last_cost` is what its last retry spent (0 when
    /// it made none, and then the success refill goes back instead).
    pub fn deposit(&mut self, last_cost: u32) {
        let back = if last_cost > 0 {
            last_cost
        } else {
            self.config.success_refill
        };
        self.tokens = self.tokens.saturating_add(back).min(self.config.capacity);
    }

    /// Tokens left.
    pub fn tokens(&self) -> u32 {
        self.tokens
    }

    /// Tokens when full.
    pub fn capacity(&self) -> u32 {
        self.config.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_spend_timeouts_spend_more_and_an_empty_bucket_refuses() {
        let mut b = Budget::new(BudgetConfig {
            capacity: 20,
            ..BudgetConfig::DEFAULT
        });
        assert_eq!(b.withdraw(false), Some(5));
        assert_eq!(b.withdraw(true), Some(10));
        assert_eq!(b.tokens(), 5);
        assert_eq!(b.withdraw(true), None, "10 > 5: refused");
        assert_eq!(b.tokens(), 5, "a refusal spends nothing");
        assert_eq!(b.withdraw(false), Some(5));
        assert_eq!(b.withdraw(false), None);
    }

    #[test]
    fn successes_refill_up_to_capacity() {
        let mut b = Budget::new(BudgetConfig::DEFAULT);
        b.withdraw(true);
        b.deposit(10);
        assert_eq!(
            b.tokens(),
            500,
            "a retried success returns its last retry's cost"
        );
        b.deposit(0);
        assert_eq!(b.tokens(), 500, "never above capacity");
        b.withdraw(false);
        b.deposit(0);
        assert_eq!(b.tokens(), 496, "a first-try success adds one token");
    }

    #[test]
    fn a_dead_backend_gets_capacity_over_cost_retries() {
        let mut b = Budget::new(BudgetConfig::DEFAULT);
        let retries = (0..1000).filter(|_| b.withdraw(false).is_some()).count();
        assert_eq!(retries, 100);
    }

    #[test]
    fn options_are_checked_and_false_disables() {
        let off = RawBudget {
            disabled: true,
            ..RawBudget::default()
        };
        assert_eq!(off.validate(), Ok(None));
        assert_eq!(
            RawBudget::default().validate(),
            Ok(Some(BudgetConfig::DEFAULT))
        );
        let small = RawBudget {
            capacity: Some(4.0),
            ..RawBudget::default()
        };
        assert_eq!(
            small.validate().unwrap().unwrap(),
            BudgetConfig {
                capacity: 4,
                retry_cost: 4,
                timeout_cost: 4,
                success_refill: 1
            },
            "default costs are capped at the capacity"
        );
        let bad = RawBudget {
            retry_cost: Some(1.5),
            ..RawBudget::default()
        };
        let err = bad.validate().unwrap_err().to_string();
        assert!(err.contains("retryBudget.retryCost"), "{err}");
    }
}
