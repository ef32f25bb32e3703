//! `GET /events`: the live feed of cases, as Server-Sent Events. Every
//! change to a case the application sees (filed, stepped, moved, merged,
//! escalated; here or on another replica) is pushed within moments to
//! each open feed whose caller may read that case, so the command
//! center's list needs no polling.
//!
//! Events: `hello` once (the feed is open), `case` per changed case (its
//! summary: id, category, status, level, grid, place, times; never the
//! description or who filed it), `refresh` when too much changed at once
//! or this client fell behind (reload what you show). A feed lives at
//! most [`FEED_LIFETIME`]; the browser's `EventSource` reconnects by
//! itself (and is signed in again: a revoked token's feed ends there).
//! Feeds end when the service shuts down.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use gridgov_app::App;
use gridgov_app::cases::{self, Whereabouts};
use gridgov_spatial::access::{Access, Thing};
use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use super::AppState;
use super::auth::Caller;

/// How long one feed stays open before the client is asked to reconnect.
pub const FEED_LIFETIME: Duration = Duration::from_secs(600);

/// Changes held for slow feeds; one further behind is told to refresh.
pub(crate) const BACKLOG: usize = 256;

/// More changed cases than this at once are sent as one `refresh`.
const MAX_CASES_PER_CHANGE: usize = 64;

/// What the feeds are sent.
#[derive(Debug, Clone)]
pub enum Feed {
    /// These cases changed: who may see each, and its summary.
    Cases(Vec<(Whereabouts, Value)>),
    /// Anything may have changed.
    Refresh,
}

/// The sending side, held by the service's state.
#[derive(Debug)]
pub struct Events {
    tx: broadcast::Sender<Arc<Feed>>,
    closing: watch::Sender<bool>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            tx: broadcast::channel(BACKLOG).0,
            closing: watch::channel(false).0,
        }
    }
}

impl Events {
    /// Starts hearing `app`'s case changes.
    pub fn listen(self: &Arc<Self>, app: &App) {
        let me = Arc::downgrade(self);
        app.on_cases_changed(Box::new(move |app, ids| {
            if let Some(ev) = me.upgrade() {
                ev.changed(app, ids);
            }
        }));
    }

    /// Ends every open feed (the service is stopping).
    pub fn close(&self) {
        let _ = self.closing.send(true);
    }

    fn changed(&self, app: &App, ids: &[i64]) {
        if self.tx.receiver_count() == 0 {
            return;
        }
        let feed = if ids.is_empty() || ids.len() > MAX_CASES_PER_CHANGE {
            Feed::Refresh
        } else {
            let snap = app.current();
            let now = app.now();
            let rows = ids
                .iter()
                .filter_map(|&id| {
                    let v = cases::read(app.store.as_ref(), &snap, &app.rules.deadlines, id, now)
                        .map_err(|e| tracing::warn!(case = id, error = %e, "cannot read a changed case for the live feed"))
                        .ok()?;
                    Some(summary(&v))
                })
                .collect();
            Feed::Cases(rows)
        };
        self.send(feed);
    }

    /// Sends `feed` to every open feed; never waits for a slow one (it
    /// is told to refresh once it has fallen [`BACKLOG`] behind).
    pub(crate) fn send(&self, feed: Feed) {
        let _ = self.tx.send(Arc::new(feed));
    }
}

/// A case as the feed shows it, with who may see it.
fn summary(v: &cases::CaseView) -> (Whereabouts, Value) {
    let x = &v.incident;
    let last = v.history.last();
    let w = Whereabouts {
        grid: v.route.grid.as_ref().map(|g| g.code.clone()),
        assignee: v.state.assignee.clone(),
        filed_by: x.filed_by.clone(),
    };
    let body = json!({
        "id": v.id,
        "kind": if v.history.is_empty() { "new" } else { "update" },
        "category": x.category,
        "source": x.source,
        "status": v.state.status,
        "level": v.state.level,
        "reported_at": x.reported_at,
        "changed_at": last.map_or(x.reported_at, |e| e.at),
        "last_action": last.map(|e| e.action.name()),
        "location": [x.location.x(), x.location.y()],
        "grid": v.route.grid.as_ref().map(|g| json!({"code": g.code, "name": g.name})),
        "deadline": v.deadline,
        "overdue": v.overdue.is_some(),
    });
    (w, body)
}

/// One open feed's state: what it hears, who is listening, what is ready
/// to send.
struct S {
    rx: broadcast::Receiver<Arc<Feed>>,
    closing: watch::Receiver<bool>,
    caller: Caller,
    queue: std::collections::VecDeque<Event>,
}

/// `GET /events`: the live feed of the cases the caller may read.
#[utoipa::path(
    get,
    path = "/events",
    tag = "incidents",
    summary = "Live feed of changed cases (Server-Sent Events)",
    responses(
        (status = 200, description = "`hello`, then a `case` event per changed case the caller may read, `refresh` when they should reload", body = String, content_type = "text/event-stream"),
        (status = 401, description = "not signed in", body = crate::openapi::Problem, content_type = "application/problem+json"),
    )
)]
pub async fn feed(State(st): State<Arc<AppState>>, caller: Caller) -> Response {
    let rx = st.events.tx.subscribe();
    let closing = st.events.closing.subscribe();
    let until = tokio::time::Instant::now() + FEED_LIFETIME;
    let hello = Event::default()
        .event("hello")
        .retry(Duration::from_secs(2))
        .data(json!({"user": caller.principal.user}).to_string());
    let first = S {
        rx,
        closing,
        caller,
        queue: std::iter::once(hello).collect(),
    };
    let stream = futures_util::stream::unfold(first, move |mut s| async move {
        loop {
            if let Some(e) = s.queue.pop_front() {
                return Some((Ok::<Event, Infallible>(e), s));
            }
            if *s.closing.borrow() {
                return None;
            }
            let got = tokio::select! {
                r = s.rx.recv() => r,
                _ = s.closing.changed() => return None,
                () = tokio::time::sleep_until(until) => return None,
            };
            match got {
                Ok(feed) => match feed.as_ref() {
                    Feed::Refresh => s.queue.push_back(refresh()),
                    Feed::Cases(rows) => {
                        for (w, body) in rows {
                            let thing = Thing::Incident {
                                grid: w.grid.as_deref(),
                                assignee: w.assignee.as_ref(),
                                filed_by: w.filed_by.as_deref(),
                            };
                            if s.caller.may(&thing, Access::Read) {
                                s.queue.push_back(
                                    Event::default().event("case").data(body.to_string()),
                                );
                            }
                        }
                    }
                },
                Err(broadcast::error::RecvError::Lagged(_)) => s.queue.push_back(refresh()),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let mut r = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    r.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

fn refresh() -> Event {
    Event::default().event("refresh").data("{}")
}
