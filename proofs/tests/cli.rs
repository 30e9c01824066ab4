//! The `hm-proofs` binary end to end: keygen → commit → prove → verify, and clear errors
//! with a non-zero exit for bad input.

use std::path::Path;
use std::process::{Command, Output};

fn hm_proofs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hm-proofs"))
        .args(args)
        .output()
        .expect("run hm-proofs")
}

fn stdout_json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json on stdout")
}

fn stderr(out: &Output) -> String {
    assert!(!out.status.success(), "expected failure");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn prove_args<'a>(dir: &'a str, salt: &'a str, op: &'a str, values: &'a str) -> Vec<String> {
    let pk = Path::new(dir).join("predicate.pk");
    [
        "prove",
        "--pk",
        pk.to_str().unwrap(),
        "--attribute",
        "age",
        "--value",
        "42",
        "--salt",
        salt,
        "--patient",
        "wasm1patient",
        "--op",
        op,
        "--values",
        values,
        "--chain-id",
        "genomics-1",
        "--consent-contract",
        "wasm1consent",
        "--consent-id",
        "3",
        "--grantee",
        "wasm1researcher",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn keygen_commit_prove_verify() {
    let dir = std::env::temp_dir().join(format!("hm-proofs-cli-{}", std::process::id()));
    let dir_s = dir.to_str().unwrap();
    let keys = stdout_json(&hm_proofs(&[
        "keygen", "--seed", "cli-test", "--out", dir_s,
    ]));
    assert_eq!(keys["vk_id"].as_str().unwrap().len(), 64);

    let c = stdout_json(&hm_proofs(&[
        "commit",
        "--attribute",
        "age",
        "--value",
        "42",
        "--patient",
        "wasm1patient",
    ]));
    let salt = c["salt"].as_str().unwrap().to_string();

    let mut args = prove_args(dir_s, &salt, "gte", "18");
    let proof_path = dir.join("proof.json");
    args.extend([
        "--out".to_string(),
        proof_path.to_str().unwrap().to_string(),
    ]);
    let out = hm_proofs(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let proof: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&proof_path).unwrap()).unwrap();
    assert_eq!(proof["statement"]["commitment"], c["commitment"]);
    assert_eq!(proof["vk_id"], keys["vk_id"]);

    let vk = dir.join("predicate.vk");
    let ok = hm_proofs(&[
        "verify",
        "--vk",
        vk.to_str().unwrap(),
        "--proof",
        proof_path.to_str().unwrap(),
    ]);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("valid: age gte [18]"));

    // The same proof presented for another consent fails.
    let tampered = std::fs::read_to_string(&proof_path)
        .unwrap()
        .replace("\"3\"", "\"4\"");
    std::fs::write(&proof_path, tampered).unwrap();
    let err = stderr(&hm_proofs(&[
        "verify",
        "--vk",
        vk.to_str().unwrap(),
        "--proof",
        proof_path.to_str().unwrap(),
    ]));
    assert!(err.contains("does not verify"), "{err}");

    // Bad input: each a clear message and a non-zero exit.
    let cases: Vec<(Vec<String>, &str)> = vec![
        (prove_args(dir_s, "zz", "gte", "18"), "salt is not hex"),
        (
            prove_args(dir_s, &salt, "greater", "18"),
            "unknown operator \"greater\"",
        ),
        (
            prove_args(dir_s, &salt, "between", "18"),
            "between takes 2 value(s), got 1",
        ),
        (prove_args(dir_s, &salt, "lt", "18"), "does not satisfy"),
        (
            prove_args(dir_s, &"ff".repeat(32), "gte", "18"),
            "not a canonical field element",
        ),
        (
            prove_args("/nonexistent", &salt, "gte", "18"),
            "reading /nonexistent/predicate.pk",
        ),
    ];
    for (args, expected) in cases {
        let err = stderr(&hm_proofs(
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
        ));
        assert!(err.contains(expected), "expected {expected:?} in {err:?}");
    }
    let err = stderr(&hm_proofs(&[
        "commit",
        "--attribute",
        "HbA1c",
        "--value",
        "1",
        "--patient",
        "p",
    ]));
    assert!(err.contains("invalid attribute code"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
