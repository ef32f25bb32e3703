//! `gridgov cards`: the signs and contact cards a street prints, read back
//! as a user's scanner and a printer would: rendered with Poppler and
//! their QR codes decoded with zbar.

use std::collections::{BTreeMap, HashSet};

use crate::util::{gridgov, poppler, s, sample, tmp_dir, zbarimg};

const BASE: &str = "https://grid.example.gov.cn";

/// The sample's first grid with households, and the resident-page links
/// of its households (each as often as there are households behind it),
/// its buildings and its units.
struct Expected {
    grid: String,
    name: String,
    phone: String,
    households: BTreeMap<String, usize>,
    buildings: HashSet<String>,
    units: HashSet<String>,
}

fn expected() -> Expected {
    let d = sample();
    let a = gridgov_spatial::assign(&d, &gridgov_spatial::GridIndex::new(&d));
    let g = d
        .grids()
        .find(|g| a.households.iter().any(|p| p.responsible() == Some(*g)))
        .unwrap();
    let link = |b: usize, u: Option<&str>| {
        let code = &d.buildings[b].code;
        match u {
            Some(u) => format!("{BASE}/r?b={code}&u={u}"),
            None => format!("{BASE}/r?b={code}"),
        }
    };
    let mut households = BTreeMap::new();
    for (i, h) in d.households.iter().enumerate() {
        if a.households[i].responsible() == Some(g) {
            let u = &d.units[h.unit.index()];
            *households
                .entry(link(u.building.index(), Some(&u.label)))
                .or_insert(0) += 1;
        }
    }
    let buildings = (0..d.buildings.len())
        .filter(|&b| a.buildings[b].placement.responsible() == Some(g))
        .map(|b| link(b, None))
        .collect();
    let units = d
        .units
        .iter()
        .enumerate()
        .filter(|(i, _)| a.units[*i].responsible() == Some(g))
        .map(|(_, u)| link(u.building.index(), Some(&u.label)))
        .collect();
    let area = d.area(g);
    Expected {
        grid: area.code.clone(),
        name: area.name.clone(),
        phone: area.staff[0].phone.clone(),
        households,
        buildings,
        units,
    }
}

/// The QR codes on the first `pages` pages of a PDF, page by page.
fn codes(pdf: &std::path::Path, pages: usize) -> Vec<Vec<String>> {
    let dir = pdf.parent().unwrap();
    let stem = dir.join("page");
    poppler(
        "pdftoppm",
        &[
            "-r",
            "200",
            "-png",
            "-l",
            &pages.to_string(),
            s(pdf),
            s(&stem),
        ],
    );
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    names.sort();
    for p in names {
        out.push(zbarimg(&p));
        std::fs::remove_file(p).unwrap();
    }
    out
}

fn pages(pdf: &std::path::Path) -> usize {
    let info = poppler("pdfinfo", &[s(pdf)]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn household_cards_come_ten_to_a_page_with_the_team_and_a_qr_code_of_their_unit() {
    let e = expected();
    let dir = tmp_dir("cards");
    let pdf = dir.join("cards.pdf");
    let r = gridgov(&[
        "cards",
        "--grid",
        &e.grid,
        "--kind",
        "card",
        "--url",
        BASE,
        "--db",
        "data/sample-district.json",
        "--out",
        s(&pdf),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let n: usize = e.households.values().sum();
    assert!(
        r.stderr.contains(&format!("{n} household cards")),
        "{}",
        r.stderr
    );
    assert_eq!(pages(&pdf), n.div_ceil(10));
    let text = poppler("pdftotext", &["-l", "1", "-enc", "UTF-8", s(&pdf), "-"]);
    assert!(
        text.contains("网格联系卡") && text.contains(&e.name),
        "{text}"
    );
    assert!(text.contains(&e.phone), "the grid's phone: {text}");
    // Every card's code is read, and opens its own unit.
    let read = codes(&pdf, 2);
    assert_eq!(read[0].len(), 10.min(n), "{:?}", read[0]);
    for link in read.iter().flatten() {
        assert!(
            e.households.contains_key(link),
            "{link} is not a unit of the grid"
        );
    }
}

#[test]
fn signs_come_one_to_a_page_for_each_building_or_unit_on_a4_or_a5() {
    let e = expected();
    let dir = tmp_dir("signs");
    let pdf = dir.join("signs.pdf");
    let r = gridgov(&[
        "cards",
        "--grid",
        &e.grid,
        "--kind",
        "sign",
        "--url",
        BASE,
        "--db",
        "data/sample-district.json",
        "--out",
        s(&pdf),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(pages(&pdf), e.buildings.len());
    let read = codes(&pdf, 3);
    for page in &read {
        assert_eq!(page.len(), 1, "one code a sign: {page:?}");
        assert!(e.buildings.contains(&page[0]), "{}", page[0]);
    }
    let text = poppler("pdftotext", &["-l", "1", "-enc", "UTF-8", s(&pdf), "-"]);
    assert!(
        text.contains("网格公示牌") && text.contains("扫码反映问题"),
        "{text}"
    );
    assert!(text.contains("楼栋长"), "the building's leader: {text}");

    let a5 = dir.join("units.pdf");
    let r = gridgov(&[
        "cards",
        "--grid",
        &e.grid,
        "--kind",
        "unit-sign",
        "--paper",
        "a5",
        "--url",
        BASE,
        "--db",
        "data/sample-district.json",
        "--out",
        s(&a5),
        "--lang",
        "en",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(pages(&a5), e.units.len());
    let info = poppler("pdfinfo", &[s(&a5)]);
    assert!(
        info.contains("419.53 x 595.28") || info.contains("420 x 595"),
        "A5: {info}"
    );
    let read = codes(&a5, 2);
    for page in &read {
        assert_eq!(page.len(), 1, "{page:?}");
        assert!(e.units.contains(&page[0]), "{}", page[0]);
    }
    let text = poppler("pdftotext", &["-l", "1", "-enc", "UTF-8", s(&a5), "-"]);
    assert!(
        text.contains("Grid sign") && text.contains("entrance"),
        "{text}"
    );
}

#[test]
fn cards_for_a_street_an_unknown_area_or_of_an_unknown_kind_are_refused_by_name() {
    let d = sample();
    let street = d
        .areas
        .iter()
        .find(|a| a.level == gridgov_spatial::Level::Street)
        .unwrap()
        .code
        .clone();
    let community = d
        .areas
        .iter()
        .find(|a| a.level == gridgov_spatial::Level::Community)
        .unwrap()
        .code
        .clone();
    let dir = tmp_dir("cards-bad");
    let out = dir.join("x.pdf");
    for (args, says) in [
        (vec!["--community", street.as_str()], "is a street"),
        (vec!["--grid", "nope"], "no grid or community"),
        (vec!["--grid", community.as_str()], "that is a community"),
        (
            vec!["--community", community.as_str(), "--kind", "poster"],
            "expected sign, unit-sign or card",
        ),
        (
            vec!["--community", community.as_str(), "--paper", "letter"],
            "expected a4 or a5",
        ),
        (
            vec!["--community", community.as_str(), "--url", "grid.example"],
            "http:// or https://",
        ),
    ] {
        let mut a = vec![
            "cards",
            "--db",
            "data/sample-district.json",
            "--out",
            s(&out),
        ];
        a.extend(args.iter().copied());
        let r = gridgov(&a);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
        assert!(!out.exists(), "nothing written for {args:?}");
    }
}
