//! Marks a handler or a layer puts on a response for the layers around it
//! (the journal, the server's service): what the reply carried, what
//! happened to it. Their own module, so the surfaces and the layers that
//! read them do not import each other.

use wxemu_core::Outcome;

/// The errcode a response's body carries (`None`: the body has none), put
/// on by the handler that wrote it, so the journal need not read the body
/// back and parse it: that re-read was most of the journal's cost per
/// request. Debug builds still parse and check the two agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplyErrcode(pub Option<i64>);

/// The appid the handler read from the request, so the journal need not
/// parse the body again to find it (requests a handler refused before
/// reading one are looked into by the journal itself).
#[derive(Debug, Clone)]
pub struct RequestApp(pub String);

/// What the person decided, on an authorize's response.
#[derive(Debug, Clone)]
pub struct DecisionNote {
    pub outcome: Outcome,
    pub account: Option<String>,
}

/// A response whose connection must be dropped instead of answered.
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

/// A response shaped by a fault; the journal records it.
#[derive(Debug, Clone)]
pub struct AppliedFault(pub String);

/// What the handler accepted that real WeChat may refuse; the journal
/// records each line (`Entry::warnings`).
#[derive(Debug, Clone, Default)]
pub struct Warnings(pub Vec<String>);
