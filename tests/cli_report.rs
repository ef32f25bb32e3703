use crate::util::{gridgov, poppler, s, tmp_dir};

#[test]
fn a_weekly_report_of_the_sample_prints_a_summary_and_writes_html_and_json() {
    let dir = tmp_dir("report");
    let db = dir.join("r.gpkg");
    let now = "2026-10-05T09:00:00+08:00";
    let r = gridgov(&["report", "--week", "2026-W40", "--db", s(&db), "--now", now]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("incidents 2026-W40 (2026-09-28 to 2026-10-04)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("vs") && r.stdout.contains("2026-W39"));
    assert!(r.stdout.contains("per 1k hh"));

    let html = dir.join("w40.html");
    let r = gridgov(&[
        "report",
        "--week",
        "2026-W40",
        "--db",
        s(&db),
        "--now",
        now,
        "--out",
        s(&html),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    assert!(page.contains("data:image/png;base64,"));
    assert!(!page.contains("<script") && !page.contains("<link"));

    let json = dir.join("oct.json");
    let r = gridgov(&[
        "report",
        "--month",
        "2026-10",
        "--db",
        s(&db),
        "--now",
        "2026-11-02T09:00:00+08:00",
        "--out",
        s(&json),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["period"]["label"], "2026-10");
    assert_eq!(v["period"]["days"], 31);
    assert_eq!(v["previous"]["label"], "2026-09");
    let total = v["totals"]["incidents"].as_u64().unwrap();
    let daily: u64 = v["daily"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["incidents"].as_u64().unwrap())
        .sum();
    assert_eq!(daily, total);
    assert!(
        v["lattice"]["cells"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["spot"] == "hot")
    );
}

#[test]
fn a_bad_period_or_output_is_refused_with_a_reason() {
    let dir = tmp_dir("report-bad");
    let db = dir.join("r.gpkg");
    for (args, says) in [
        (vec!["--week", "2026-11"], "not a week"),
        (vec!["--month", "2026-W46"], "not a month"),
        (vec!["--week", "2026-W54"], "weeks 1 to 53"),
        (vec!["--period", "soon"], "is not a period"),
        (
            vec!["--week", "2026-W46", "--out", "r.docx"],
            ".html, .pdf or .json",
        ),
        (
            vec![
                "--week",
                "2026-W46",
                "--out",
                "r.pdf",
                "--font",
                "Cargo.toml",
            ],
            "cannot be used",
        ),
        (vec!["--week", "2026-W46", "--now", "today"], "RFC 3339"),
    ] {
        let mut a = vec!["report", "--db", s(&db)];
        a.extend(args.iter().copied());
        let r = gridgov(&a);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{args:?}: {}", r.stderr);
    }
}

#[test]
fn a_monthly_report_is_written_as_a_pdf_whose_chinese_text_poppler_reads_back() {
    let dir = tmp_dir("report-pdf");
    let db = dir.join("r.gpkg");
    let pdf = dir.join("oct.pdf");
    let now = "2026-11-02T09:00:00+08:00";
    let r = gridgov(&[
        "report",
        "--month",
        "2026-10",
        "--db",
        s(&db),
        "--now",
        now,
        "--out",
        s(&pdf),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-1.7"));
    // The numbers the text must carry, from the same report as JSON.
    let r = gridgov(&[
        "report",
        "--month",
        "2026-10",
        "--db",
        s(&db),
        "--now",
        now,
        "--json",
    ]);
    let v = r.json();
    let total = v["totals"]["incidents"].as_u64().unwrap();
    let top = v["top_grids"][0]["name"].as_str().unwrap().to_owned();

    let text = poppler("pdftotext", &["-layout", "-enc", "UTF-8", s(&pdf), "-"]);
    for want in [
        "事件报告 2026-10",
        "摘要",
        &format!("本期共上报事件 {total} 件"),
        "事件聚集区域",
        "事件最多的网格",
        top.as_str(),
        "热点分析",
        "网格考核排名",
        "得分（0–100）",
        "当前超期案件",
        "第 1 页，共",
    ] {
        assert!(
            text.contains(want),
            "{want:?} is not in the PDF's text:\n{text}"
        );
    }
    // Every page has its running title and number.
    let info = poppler("pdfinfo", &[s(&pdf)]);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo gives the page count");
    assert!(pages >= 3, "{info}");
    assert!(info.contains("A4"), "{info}");
    assert!(
        text.contains(&format!("第 {pages} 页，共 {pages} 页")),
        "{text}"
    );
    assert_eq!(
        text.matches("事件报告 2026-10").count(),
        pages + 1,
        "{text}"
    );
    // The font travels in the file, as a subset.
    let fonts = poppler("pdffonts", &[s(&pdf)]);
    let row = fonts.lines().nth(2).unwrap_or_default();
    assert!(row.contains("CID"), "{fonts}");
    let cols: Vec<&str> = row.split_whitespace().collect();
    // emb, sub and uni: embedded, a subset, with a ToUnicode map.
    assert!(cols.len() > 5, "{fonts}");
    assert_eq!(
        cols[cols.len() - 5..cols.len() - 2],
        ["yes", "yes", "yes"],
        "{fonts}"
    );
    assert!(
        cols[0].len() > 7 && cols[0].as_bytes()[6] == b'+',
        "a subset is named ABCDEF+…: {fonts}"
    );

    // In English on request.
    let en = dir.join("oct-en.pdf");
    let r = gridgov(&[
        "report",
        "--month",
        "2026-10",
        "--db",
        s(&db),
        "--now",
        now,
        "--lang",
        "en",
        "--out",
        s(&en),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let text = poppler("pdftotext", &["-enc", "UTF-8", s(&en), "-"]);
    assert!(text.contains("Summary"), "{text}");
    assert!(text.contains("Page 1 of"), "{text}");
}
