use geo::Centroid;
use gridgov_spatial::Crs;

use crate::util::{gridgov, sample};

#[test]
fn lookup_at_a_building_gives_its_grid_chain_staff_and_border_distance() {
    let d = sample();
    let c = d.buildings[42].footprint.centroid().unwrap();
    let r = gridgov(&["lookup", "--at", &format!("{},{}", c.x(), c.y()), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let chain = v["chain"].as_array().unwrap();
    assert_eq!(chain.len(), 3);
    assert_eq!(chain[0]["level"], "grid");
    assert_eq!(chain[1]["level"], "community");
    assert_eq!(chain[2]["level"], "street");
    assert_eq!(chain[2]["name"], "龙山路街道");
    assert!(
        chain[0]["code"]
            .as_str()
            .unwrap()
            .starts_with(chain[1]["code"].as_str().unwrap())
    );
    let roles: Vec<&str> = chain[0]["staff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"grid_leader")
            && roles.contains(&"grid_worker")
            && roles.contains(&"instructor")
    );
    assert!(v["border_distance_m"].as_f64().unwrap() > 0.0);
}

#[test]
fn lookup_in_gcj02_bd09_gauss_kruger_utm_and_web_mercator_finds_the_same_grid_as_wgs84() {
    let d = sample();
    let c = d.buildings[100].footprint.centroid().unwrap();
    let want =
        gridgov(&["lookup", "--at", &format!("{},{}", c.x(), c.y()), "--json"]).json()["chain"][0]
            ["code"]
            .clone();
    for crs in [
        Crs::Gcj02,
        Crs::Bd09,
        Crs::Epsg(4527),
        Crs::Epsg(4547),
        Crs::Epsg(4509),
        Crs::Epsg(32650),
        Crs::Epsg(3857),
    ] {
        let (x, y) = crs.from_wgs84(c.x(), c.y());
        let r = gridgov(&[
            "lookup",
            "--at",
            &format!("{x},{y}"),
            "--crs",
            &crs.to_string(),
            "--json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.json()["chain"][0]["code"], want, "{crs}");
    }
    // A point PROJ put in CGCS2000 3° Gauss-Krüger zone 39 (pyproj, from
    // 117.526, 34.866).
    let r = gridgov(&[
        "lookup",
        "--at",
        "39548095.961,3859853.237",
        "--crs",
        "EPSG:4527",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["chain"][0]["code"], "370402005001004");
}

#[test]
fn a_point_outside_the_district_names_the_nearest_grid_and_exits_1() {
    let r = gridgov(&["lookup", "--at", "117.40,34.86"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("outside every grid; nearest is 370402005"),
        "{}",
        r.stdout
    );
}

#[test]
fn swapped_or_malformed_coordinates_are_clear_errors() {
    let r = gridgov(&["lookup", "--at", "34.86,117.55"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("out of range"), "{}", r.stderr);
    let r = gridgov(&["lookup", "--at", "east,north"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a number"), "{}", r.stderr);
    let r = gridgov(&["lookup", "--at", "117.55,34.86", "--crs", "utm50"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("unknown coordinate system"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_address_finds_its_building_unit_and_grid() {
    let d = sample();
    let b = &d.buildings[7];
    let unit = d.units.iter().find(|u| u.building.index() == 7).unwrap();
    let q = format!("市中区龙山路街道 {} {}单元 301室", b.address, unit.label);
    let r = gridgov(&["lookup", "--address", &q, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let top = &v["candidates"][0];
    assert_eq!(top["building"], b.code.as_str());
    assert_eq!(top["unit"], unit.label.as_str());
    assert!(top["confidence"].as_f64().unwrap() > 0.95, "{top}");
    assert_eq!(top["chain"].as_array().unwrap().len(), 3);
}

#[test]
fn fuzzy_addresses_still_find_the_building() {
    let d = sample();
    let b = &d.buildings[200];
    let want = b.code.as_str();
    // "光明路18号3号楼" → variants.
    let (road, rest) = b.address.split_once(|c: char| c.is_ascii_digit()).unwrap();
    let digits_at = b.address.find(|c: char| c.is_ascii_digit()).unwrap();
    let tail = &b.address[digits_at..];
    let _ = rest;
    let (num, bld) = tail.split_once('号').unwrap();
    let bld = bld.trim_end_matches("号楼");
    // A typo in the road name.
    let mut chars: Vec<char> = road.chars().collect();
    chars[0] = if chars[0] == '王' { '汪' } else { '王' };
    let typo: String = chars.into_iter().collect();
    for q in [
        format!("{road}{num}号{bld}栋"),
        format!("{road}{num}号{bld}幢"),
        format!("{typo}{num}号{bld}号楼"),
        format!("{road}{num}号院{bld}号楼"),
    ] {
        let r = gridgov(&["lookup", "--address", &q, "--json"]);
        assert_eq!(r.code, 0, "{q}: {}", r.stderr);
        assert_eq!(r.json()["candidates"][0]["building"], want, "{q}");
    }
}

#[test]
fn an_unknown_address_exits_1() {
    let r = gridgov(&["lookup", "--address", "不存在路999号"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("no building matches"));
}

/// Official names of the communities of Shizhong District (370402) from the
/// national statistics release.
fn official_communities(prefix: &str) -> Vec<(String, String)> {
    use std::io::Read;
    let f = std::fs::File::open(crate::util::shared_data().join("china/villages.csv.gz")).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut text)
        .unwrap();
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| {
            let mut it = l.split(',');
            let code = it.next().unwrap().to_string();
            let name = it.next().unwrap().trim_matches('"').to_string();
            (code, name)
        })
        .collect()
}

#[test]
fn the_samples_street_and_communities_carry_their_official_names_and_codes() {
    let d = sample();
    let official = official_communities("370402005");
    assert_eq!(official.len(), 8);
    for (code, name) in &official {
        let a = d.area(
            d.area_by_code(code)
                .unwrap_or_else(|| panic!("{code} missing")),
        );
        assert_eq!(&a.name, name);
    }
    let streets =
        std::fs::read_to_string(crate::util::shared_data().join("china/streets.csv")).unwrap();
    assert!(
        streets
            .lines()
            .any(|l| l.starts_with("370402005,\"龙山路街道\""))
    );
}

#[test]
fn every_official_community_of_the_district_is_recognised_in_an_address() {
    use gridgov_spatial::address::{normalise_area_name, parse};
    let all = official_communities("370402");
    assert!(all.len() > 50, "{}", all.len());
    for (_, name) in all {
        let a = parse(&format!("市中区{name}光明路18号3号楼2单元301室"));
        assert_eq!(
            a.community.as_deref(),
            Some(normalise_area_name(&name).as_str()),
            "{name}"
        );
        assert_eq!(
            (
                a.road.as_deref(),
                a.number.as_deref(),
                a.building.as_deref()
            ),
            (Some("光明路"), Some("18"), Some("3")),
            "{name}"
        );
    }
}

#[test]
fn lookup_inside_a_building_names_the_building_and_its_leaders_and_outside_one_names_none() {
    let d = sample();
    let b = &d.buildings[42];
    let c = geo::InteriorPoint::interior_point(&b.footprint).unwrap();
    let r = gridgov(&["lookup", "--at", &format!("{},{}", c.x(), c.y()), "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["building"]["code"], b.code.as_str());
    assert_eq!(v["building"]["address"], b.address.as_str());
    assert_eq!(
        v["building"]["leaders"][0]["name"],
        b.leaders[0].name.as_str()
    );
    assert_eq!(v["building"]["leaders"][0]["role"], "building_leader");
    let text = gridgov(&["lookup", "--at", &format!("{},{}", c.x(), c.y())]);
    assert!(
        text.stdout
            .contains(&format!("building  {} {}", b.code, b.address)),
        "{}",
        text.stdout
    );
    // A point in the grid but in no building (checked by brute force).
    let idx = gridgov_spatial::BuildingIndex::new(&d);
    let g = &d.area(d.grids().next().unwrap()).boundary;
    let r = geo::BoundingRect::bounding_rect(g).unwrap();
    let mut rng = gridgov_spatial::Rng::new(4);
    let p = (0..10_000)
        .map(|_| {
            (
                r.min().x + rng.f64() * r.width(),
                r.min().y + rng.f64() * r.height(),
            )
        })
        .find(|&(x, y)| {
            geo::Contains::contains(g, &geo::Point::new(x, y))
                && idx.at(&d, x, y).is_none()
                && !d
                    .buildings
                    .iter()
                    .any(|b| geo::Intersects::intersects(&b.footprint, &geo::Point::new(x, y)))
        })
        .unwrap();
    let v = gridgov(&["lookup", "--at", &format!("{},{}", p.0, p.1), "--json"]).json();
    assert_eq!(v["chain"].as_array().unwrap().len(), 3);
    assert!(v["building"].is_null(), "{v}");
}
