//! Every route, with what it asks of its caller declared where it is
//! added: [`guarded`] puts the route layer that checks the [`Need`]
//! (`auth::require`) on the route's own handler and writes the same need
//! into the API document (`security`, `x-gridgov-access`). Routes and
//! document come from one list, so neither can leave a route out.

use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use gridgov_spatial::access::{Access, Thing};
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::SecurityRequirement;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;

use super::auth::{self, Need};
use super::{
    AppState, accounts, assessment, cards, cases, editing, events, features, handheld, hotline,
    households, lookup, open311, openapi, panoramas, partition, photos, reports, resident, roles,
    sensors, tiles, web,
};

type Route = UtoipaMethodRouter<Arc<AppState>>;

fn operations(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.options.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// A route held to `need`: the check on its handler, and the need in its
/// documentation.
fn guarded(st: &Arc<AppState>, need: Need, (schemas, mut paths, method): Route) -> Route {
    for item in paths.paths.values_mut() {
        for op in operations(item) {
            op.security = Some(if need == Need::Open {
                // Anyone: no security requirement at all.
                vec![SecurityRequirement::default()]
            } else {
                vec![SecurityRequirement::new("bearer", Vec::<String>::new())]
            });
            op.extensions
                .get_or_insert_with(Default::default)
                .insert("x-gridgov-access".into(), need.name().into());
        }
    }
    let method = if need == Need::Open {
        method
    } else {
        method.route_layer(from_fn_with_state((st.clone(), need), auth::require))
    };
    (schemas, paths, method)
}

/// Every route of the service.
pub fn routes(st: &Arc<AppState>) -> OpenApiRouter<Arc<AppState>> {
    use Access::{Read, Write};
    let open = Need::Open;
    let signed_in = Need::SignedIn;
    let map = Need::May(Thing::Map, Read);
    let aggregate = Need::May(Thing::Aggregate, Read);
    let read_boundaries = Need::May(Thing::Boundary, Read);
    let edit_boundaries = Need::May(Thing::Boundary, Write);
    let file_incidents = Need::May(Thing::NewIncident, Write);
    // Escalating every overdue case is an act on all of them.
    let every_incident = Need::May(
        Thing::Incident {
            grid: None,
            assignee: None,
            filed_by: None,
        },
        Write,
    );
    let read_accounts = Need::May(Thing::Accounts, Read);
    let edit_accounts = Need::May(Thing::Accounts, Write);
    let g = |need, r| guarded(st, need, r);
    OpenApiRouter::with_openapi(openapi::base())
        // The web map and the API's own pages.
        .routes(g(open, routes!(web::root)))
        .routes(g(open, routes!(web::page)))
        .routes(g(open, routes!(web::dashboard)))
        .routes(g(open, routes!(web::catalogue)))
        .routes(g(open, routes!(web::asset)))
        .routes(g(open, routes!(handheld::redirect)))
        // The residents' page: no sign-in; a case is followed with the
        // tracking token its filing gave.
        .routes(g(open, routes!(resident::page)))
        .routes(g(open, routes!(resident::place)))
        .routes(g(open, routes!(resident::district)))
        .routes(g(open, routes!(resident::case)))
        .routes(g(open, routes!(resident::evaluate)))
        .routes(g(open, routes!(resident::photo)))
        .routes(g(open, routes!(tiles::resident_tile)))
        .routes(g(open, routes!(handheld::page)))
        .routes(g(open, routes!(handheld::worker)))
        .routes(g(open, routes!(handheld::manifest)))
        .routes(g(signed_in, routes!(handheld::slice)))
        .routes(g(signed_in, routes!(handheld::delta)))
        .routes(g(open, routes!(openapi::document)))
        .routes(g(open, routes!(super::health)))
        // OGC API – Features, lookups, tiles: the map.
        .routes(g(open, routes!(features::conformance)))
        .routes(g(map, routes!(features::collections)))
        .routes(g(map, routes!(features::collection)))
        .routes(g(map, routes!(features::items)))
        .routes(g(map, routes!(features::item)))
        .routes(g(map, routes!(lookup::lookup)))
        .routes(g(map, routes!(lookup::batch)))
        .routes(g(map, routes!(lookup::summary)))
        .routes(g(map, routes!(tiles::tilejson)))
        .routes(g(map, routes!(tiles::tile)))
        .routes(g(map, routes!(super::district_json)))
        .routes(g(aggregate, routes!(tiles::heat_legend)))
        // Counts, hot spots, reports.
        .routes(g(aggregate, routes!(reports::incident_stats)))
        .routes(g(aggregate, routes!(assessment::assessment)))
        .routes(g(aggregate, routes!(reports::overview)))
        .routes(g(aggregate, routes!(reports::hotspots)))
        .routes(g(aggregate, routes!(reports::index)))
        .routes(g(aggregate, routes!(reports::report)))
        // Boundaries: read by many, edited by planners.
        .routes(g(read_boundaries, routes!(editing::get_grid)))
        .routes(g(edit_boundaries, routes!(editing::put_grid)))
        // The community's own accounts keep their grids' teams (checked per grid).
        .routes(g(signed_in, routes!(editing::put_team)))
        .routes(g(read_boundaries, routes!(editing::grid_history)))
        .routes(g(read_boundaries, routes!(editing::versions)))
        .routes(g(edit_boundaries, routes!(editing::rollback)))
        .routes(g(edit_boundaries, routes!(editing::create_draft)))
        .routes(g(edit_boundaries, routes!(editing::get_draft)))
        .routes(g(edit_boundaries, routes!(editing::validate_draft)))
        .routes(g(edit_boundaries, routes!(editing::preview_draft)))
        .routes(g(edit_boundaries, routes!(editing::publish_draft)))
        .routes(g(edit_boundaries, routes!(partition::propose)))
        // Panoramas: planners add them, everyone signed in looks.
        .routes(g(edit_boundaries, routes!(panoramas::upload)))
        .routes(g(signed_in, routes!(panoramas::list)))
        .routes(g(signed_in, routes!(panoramas::get)))
        .routes(g(signed_in, routes!(panoramas::picture)))
        .routes(g(open, routes!(panoramas::page)))
        // Cases: each one checked against the caller's grids by its
        // handler.
        .routes(g(signed_in, routes!(cases::list)))
        .routes(g(signed_in, routes!(events::feed)))
        .routes(g(file_incidents, routes!(cases::file)))
        .routes(g(every_incident, routes!(cases::escalate)))
        .routes(g(file_incidents, routes!(cases::import)))
        // Monitoring points: seen on the map, defined by admins, read by
        // the gateways that may file cases.
        .routes(g(map, routes!(sensors::list)))
        .routes(g(edit_accounts, routes!(sensors::put)))
        .routes(g(file_incidents, routes!(sensors::post_readings)))
        .routes(g(map, routes!(sensors::series)))
        // The hotline platform's own cases, by its case numbers.
        .routes(g(file_incidents, routes!(hotline::post_case)))
        .routes(g(file_incidents, routes!(hotline::get_case)))
        .routes(g(signed_in, routes!(cases::get)))
        .routes(g(signed_in, routes!(cases::step)))
        .routes(g(signed_in, routes!(cases::move_pin)))
        .routes(g(signed_in, routes!(cases::duplicates)))
        .routes(g(signed_in, routes!(cases::merge)))
        // Open311 GeoReport v2: open to all; what residents said only to
        // those who may read the case.
        .routes(g(open, routes!(open311::service_list)))
        .routes(g(open, routes!(open311::service_list_xml)))
        .routes(g(open, routes!(open311::service_definition)))
        .routes(g(open, routes!(open311::get_requests)))
        .routes(g(open, routes!(open311::get_requests_xml)))
        .routes(g(open, routes!(open311::post_request)))
        .routes(g(open, routes!(open311::post_request_xml)))
        .routes(g(open, routes!(open311::get_request)))
        // Households and units: each checked against the caller's grids.
        .routes(g(signed_in, routes!(households::list)))
        .routes(g(signed_in, routes!(households::get)))
        .routes(g(signed_in, routes!(households::put)))
        .routes(g(signed_in, routes!(households::put_unit)))
        .routes(g(signed_in, routes!(households::put_leaders)))
        .routes(g(signed_in, routes!(cards::cards)))
        .routes(g(
            signed_in,
            routes!(households::post_visit, households::get_visits),
        ))
        .routes(g(signed_in, routes!(photos::post_household)))
        .routes(g(signed_in, routes!(photos::post_case)))
        .routes(g(signed_in, routes!(photos::get)))
        // Signing in and out, and accounts.
        .routes(g(open, routes!(accounts::login)))
        .routes(g(signed_in, routes!(accounts::logout)))
        .routes(g(open, routes!(accounts::me)))
        .routes(g(signed_in, routes!(accounts::change_password)))
        .routes(g(read_accounts, routes!(accounts::users)))
        .routes(g(edit_accounts, routes!(accounts::create_user)))
        .routes(g(read_accounts, routes!(accounts::user)))
        .routes(g(edit_accounts, routes!(accounts::update_user)))
        .routes(g(open, routes!(roles::get_roles)))
        .routes(g(edit_accounts, routes!(roles::put_roles)))
        .routes(g(read_accounts, routes!(accounts::tokens)))
        .routes(g(edit_accounts, routes!(accounts::issue_token)))
        .routes(g(edit_accounts, routes!(accounts::revoke_token)))
        .routes(g(read_accounts, routes!(accounts::audit)))
}
