//! The result cache: canonical keys, the LRU/TTL store, and the rules that
//! say what is cached.

pub mod json;
pub mod key;
pub mod rules;
pub mod store;
pub mod validator;
