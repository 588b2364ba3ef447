//! Protecting a struggling backend from its own clients: a retry budget per
//! service (retries stop when too many fail) and a circuit breaker per
//! service (attempts stop, or go elsewhere, while most fail). The engine
//! consults both; both are pure functions of what they were told and when.

pub mod breaker;
pub mod budget;

pub use breaker::{Admit, Breaker, BreakerConfig, BreakerState, BreakerView};
pub use budget::{Budget, BudgetConfig};

use super::error::{ErrorKind, RequestError};
use super::route::Route;

/// The budget and the breaker of each network route; the mock route has
/// neither (nothing reaches a server). A client calls one cloud service and
/// one `baseUrl`, so per route is per service.
#[derive(Clone, Debug)]
pub struct Guards {
    budgets: [Option<Budget>; 2],
    breakers: [Option<Breaker>; 2],
}

impl Guards {
    /// Full budgets and closed breakers, where configured.
    pub fn new(budget: Option<BudgetConfig>, breaker: Option<BreakerConfig>) -> Self {
        Guards {
            budgets: [budget.map(Budget::new), budget.map(Budget::new)],
            breakers: [breaker.map(Breaker::new), breaker.map(Breaker::new)],
        }
    }

    /// The retry budget of `route`.
    pub fn budget(&mut self, route: Route) -> Option<&mut Budget> {
        self.budgets.get_mut(index(route)?)?.as_mut()
    }

    /// The circuit breaker of `route`.
    pub fn breaker(&mut self, route: Route) -> Option<&mut Breaker> {
        self.breakers.get_mut(index(route)?)?.as_mut()
    }

    /// Both, to read.
    pub fn view(&self, route: Route) -> (Option<&Budget>, Option<&Breaker>) {
        match index(route) {
            Some(i) => (self.budgets[i].as_ref(), self.breakers[i].as_ref()),
            None => (None, None),
        }
    }
}

fn index(route: Route) -> Option<usize> {
    match route {
        Route::Cloud => Some(0),
        Route::Http => Some(1),
        Route::Mock => None,
    }
}

/// Whether a failed attempt says something about the service's health:
/// it did not answer in time, the connection failed, or it answered 5xx.
/// Client errors (4xx), 429 (the server pacing us, with `Retry-After`),
/// cancellations and input errors do not count against it.
pub fn counts_against_service(error: &RequestError) -> bool {
    matches!(
        error.kind(),
        ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Service
    )
}
