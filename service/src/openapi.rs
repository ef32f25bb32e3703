//! The OpenAPI 3.0 document at `/openapi.json`.

use std::sync::Arc;

use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;
use super::features::COLLECTIONS;

fn param(name: &str, description: &str, schema: &Value, required: bool) -> Value {
    json!({"name": name, "in": "query", "required": required, "description": description, "schema": schema})
}

/// `GET /openapi.json`.
pub async fn document(
    State(st): State<Arc<AppState>>,
    headers: axum::http::HeaderMap,
) -> axum::Json<Value> {
    let problem = json!({"description": "a problem (RFC 7807)", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}});
    let geojson = |d: &str| json!({"description": d, "content": {"application/geo+json": {"schema": {"type": "object"}}}});
    let json_ok = |d: &str| json!({"description": d, "content": {"application/json": {"schema": {"type": "object"}}}});
    let collection_id = json!({"name": "collectionId", "in": "path", "required": true, "schema": {"type": "string", "enum": COLLECTIONS.iter().map(|c| c.0).collect::<Vec<_>>()}});
    axum::Json(json!({
        "openapi": "3.0.3",
        "info": {"title": "gridgov", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Grid-based community governance: which grid a point or address belongs to, and OGC API – Features over grids, buildings, units, merchants, cameras and incidents."},
        "servers": [{"url": super::features::base(&st, &headers)}],
        "paths": {
            "/": {"get": {"summary": "Landing page", "operationId": "getLandingPage", "responses": {"200": json_ok("links to the API")}}},
            "/conformance": {"get": {"summary": "Conformance classes", "operationId": "getConformanceDeclaration", "responses": {"200": json_ok("conformance classes")}}},
            "/collections": {"get": {"summary": "Feature collections", "operationId": "getCollections", "responses": {"200": json_ok("the collections")}}},
            "/collections/{collectionId}": {"get": {"summary": "One collection", "operationId": "describeCollection", "parameters": [collection_id],
                "responses": {"200": json_ok("the collection"), "404": problem}}},
            "/collections/{collectionId}/items": {"get": {"summary": "Features of a collection", "operationId": "getFeatures",
                "parameters": [collection_id,
                    param("bbox", "minLon,minLat,maxLon,maxLat (CRS84)", &json!({"type": "array", "items": {"type": "number"}, "minItems": 4, "maxItems": 4}), false),
                    param("limit", "page size", &json!({"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}), false),
                    param("offset", "features to skip (follow the next link)", &json!({"type": "integer", "minimum": 0, "default": 0}), false),
                    param("datetime", "instant or interval (incidents)", &json!({"type": "string"}), false)],
                "responses": {"200": geojson("a page of features"), "400": problem, "404": problem}}},
            "/collections/{collectionId}/items/{featureId}": {"get": {"summary": "One feature", "operationId": "getFeature",
                "parameters": [collection_id, {"name": "featureId", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {"200": geojson("the feature"), "404": problem}}},
            "/lookup": {"get": {"summary": "Which grid a point or an address belongs to",
                "parameters": [param("lon", "longitude", &json!({"type": "number"}), false), param("lat", "latitude", &json!({"type": "number"}), false),
                    param("crs", "wgs84 (= cgcs2000), gcj02 or bd09", &json!({"type": "string", "default": "wgs84"}), false),
                    param("address", "an address instead of a point", &json!({"type": "string"}), false),
                    param("limit", "most address candidates", &json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 5}), false)],
                "responses": {"200": json_ok("the grid chain, staff and border distance, or ranked address candidates"), "400": problem}}},
            "/lookup/batch": {"post": {"summary": "The grid of many points",
                "parameters": [param("crs", "wgs84, gcj02 or bd09", &json!({"type": "string"}), false)],
                "requestBody": {"required": true, "content": {
                    "application/geo+json": {"schema": {"type": "object", "description": "FeatureCollection of Points"}},
                    "text/csv": {"schema": {"type": "string", "description": "header with lon,lat[,id]"}}}},
                "responses": {"200": json_ok("each point's grid, community and street (CSV for CSV)"), "400": problem, "413": problem, "415": problem}}},
            "/summary": {"get": {"summary": "Counts per grid, community and street",
                "parameters": [param("level", "street, community or grid", &json!({"type": "string"}), false)],
                "responses": {"200": json_ok("counts"), "400": problem}}},
            "/stats/incidents": {"get": {"summary": "Incidents per street, community and grid, per category, with rates per 1,000 households",
                "parameters": [param("level", "street, community or grid", &json!({"type": "string"}), false),
                    param("period", "2026-W46, 2026-11 or 2026-11-01..2026-11-15 (local days); default all time", &json!({"type": "string"}), false),
                    param("category", "categories, comma-separated", &json!({"type": "string"}), false)],
                "responses": {"200": json_ok("counts and rates per area"), "400": problem}}},
            "/hotspots": {"get": {"summary": "Gi* hot spots per grid or lattice cell, with permutation p-values, FDR control and emerging labels",
                "parameters": [param("period", "a week, month or day range; default the last full week", &json!({"type": "string"}), false),
                    param("method", "grid or lattice", &json!({"type": "string", "default": "grid"}), false),
                    param("cell_m", "lattice cell size in metres", &json!({"type": "number", "default": 200}), false),
                    param("category", "categories, comma-separated", &json!({"type": "string"}), false),
                    param("permutations", "conditional permutations", &json!({"type": "integer", "default": 999}), false),
                    param("weeks", "weeks in the emerging series", &json!({"type": "integer", "default": 8}), false),
                    param("fdr", "false-discovery rate", &json!({"type": "number", "default": 0.05}), false),
                    param("format", "json or geojson", &json!({"type": "string", "default": "json"}), false)],
                "responses": {"200": json_ok("a result per unit (GeoJSON features with format=geojson)"), "400": problem}}},
            "/reports/{period}": {"get": {"summary": "The incident report of a week, month or day range: JSON, or the self-contained HTML page with .html",
                "parameters": [{"name": "period", "in": "path", "required": true, "schema": {"type": "string"}, "description": "2026-W46, 2026-11, 2026-11-01..2026-11-15, with .json or .html"},
                    param("now", "the time overdue cases are judged at (RFC 3339)", &json!({"type": "string"}), false)],
                "responses": {"200": {"description": "the report", "content": {"application/json": {"schema": {"type": "object"}}, "text/html": {"schema": {"type": "string"}}}}, "400": problem, "404": problem}}},
            "/health": {"get": {"summary": "Liveness", "responses": {"200": json_ok("ok")}}},
            "/login": {"post": {"summary": "Sign in with name and password: a 12-hour token (and an HttpOnly cookie)", "security": [],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["name", "password"],
                    "properties": {"name": {"type": "string"}, "password": {"type": "string"}}}}}},
                "responses": {"200": json_ok("token, token_id, expires, user"), "401": problem, "429": problem}}},
            "/logout": {"post": {"summary": "Revoke the token this request carries", "responses": {"204": {"description": "signed out"}, "401": problem}}},
            "/me": {"get": {"summary": "Who is signed in", "security": [], "responses": {"200": json_ok("user, role, grids, department (or signed_in: false)")}}},
            "/me/password": {"put": {"summary": "Change one's own password {current, new}; every token of theirs is revoked", "responses": {"204": {"description": "changed"}, "403": problem, "422": problem}}},
            "/households": {"get": {"summary": "Households the caller may read (grid staff: their grids; admins: all); personal fields in full only for them, audited",
                "parameters": [param("grid", "a grid code", &json!({"type": "string"}), false),
                    param("limit", "most households", &json!({"type": "integer", "default": 100}), false),
                    param("offset", "households to skip", &json!({"type": "integer", "default": 0}), false)],
                "responses": {"200": json_ok("total, offset, households"), "401": problem, "403": problem}}},
            "/households/{id}": {
                "get": {"summary": "One household (grid staff of its grid, admins)", "responses": {"200": json_ok("the household"), "403": problem, "404": problem}},
                "put": {"summary": "Change room, headcount, head_name, phone, id_number (null clears; an ID number must check out)", "responses": {"200": json_ok("the household"), "400": problem, "403": problem, "422": problem}}},
            "/units/{id}": {"put": {"summary": "Change a unit's label and household count (grid staff of its grid, admins)", "responses": {"200": json_ok("the unit"), "403": problem, "404": problem, "422": problem}}},
            "/users": {"get": {"summary": "Users (admins)", "responses": {"200": json_ok("users"), "403": problem}},
                "post": {"summary": "Add a user {name, role, grids, department, password?}; a generated password is answered once", "responses": {"201": json_ok("user and password"), "409": problem, "422": problem}}},
            "/users/{name}": {"get": {"summary": "A user (admins)", "responses": {"200": json_ok("user"), "404": problem}},
                "put": {"summary": "Change role, grids, department, disabled, password; disabling or a new password revokes their tokens", "responses": {"200": json_ok("user"), "404": problem, "422": problem}}},
            "/tokens": {"get": {"summary": "Tokens (never the tokens themselves), of ?user= or all (admins)", "responses": {"200": json_ok("tokens")}},
                "post": {"summary": "Issue an API token {user, label?, days?}, shown once (admins)", "responses": {"201": json_ok("token and record"), "404": problem}}},
            "/tokens/{id}": {"delete": {"summary": "Revoke a token (admins)", "responses": {"204": {"description": "revoked"}, "404": problem}}},
            "/audit": {"get": {"summary": "The append-only audit log, newest first (admins)",
                "parameters": [param("user", "only this user's", &json!({"type": "string"}), false),
                    param("action", "login, login_failed, logout, read_personal, edit, denied, account", &json!({"type": "string"}), false),
                    param("object", "objects starting so", &json!({"type": "string"}), false),
                    param("since", "from (RFC 3339)", &json!({"type": "string"}), false),
                    param("until", "before (RFC 3339)", &json!({"type": "string"}), false),
                    param("before", "lines older than this id (paging)", &json!({"type": "integer"}), false),
                    param("limit", "most lines", &json!({"type": "integer", "default": 100}), false)],
                "responses": {"200": json_ok("entries and next_before")}}}
        },
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": {"Problem": {"type": "object", "properties": {
            "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
            "detail": {"type": "string"}, "field": {"type": "string"}}}}}
    }))
}
