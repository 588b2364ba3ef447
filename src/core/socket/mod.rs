//! Managed sockets: the connection's state machine and timing (reconnect,
//! heartbeat, outbox, lifecycle). Sans-IO: events in, commands out.

pub mod config;
pub mod control;
pub mod hub;
pub mod machine;
pub mod outbox;
pub mod pool;
pub mod pushed;
