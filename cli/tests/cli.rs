//! `hmesh` as a user runs it, without a chain: help, keys, completions, and clear non-zero
//! errors for bad input, caught before anything is signed or sent. (The commands against
//! real chains run in the localnet e2e.)

use std::path::Path;

use assert_cmd::Command;
use tempfile::TempDir;

/// A deployment file whose genomics chain points at a closed port, plus an empty keyring.
fn sandbox() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let deployment = r#"{"chains": {"genomics-1": {"chain_id": "genomics-1", "rpc": "http://127.0.0.1:1",
        "denom": "ustake", "bech32_prefix": "wasm",
        "accounts": {"researcher": "wasm1r5v5srda7xfth3hn2s26txvrcrntldju3hkw75"},
        "contracts": {"consent": "wasm1yyca08xqdgvjz0psg56z67ejh9xms6l436u8y58m82npdqqhmmtqas0cl7",
                      "governance": "wasm1hrpna9v7vs3stzyd4z3xf00676kf78zpe2u5ksvljswn2vnjp3ys8c5wp9"}}}}"#;
    std::fs::write(dir.path().join("deployment.json"), deployment).unwrap();
    dir
}

fn hmesh(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("hmesh").unwrap();
    cmd.env_clear()
        .env("HMESH_HOME", dir.join("home"))
        .env("HMESH_DEPLOYMENT", dir.join("deployment.json"))
        .env("HMESH_PASSPHRASE", "synthetic test passphrase");
    cmd
}

fn stderr_of(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn help_documents_every_command() {
    let dir = sandbox();
    let out = hmesh(dir.path()).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    for command in [
        "keys",
        "dao",
        "council",
        "consent",
        "billing",
        "trials",
        "stake",
        "attest",
        "chain",
        "completions",
    ] {
        assert!(help.contains(command), "--help lacks {command}:\n{help}");
    }
    let groups: [(&str, &[&str]); 8] = [
        (
            "dao",
            &[
                "propose", "vote", "execute", "close", "list", "show", "votes", "power",
            ],
        ),
        ("council", &["pause", "unpause", "veto"]),
        (
            "consent",
            &[
                "grant",
                "revoke",
                "list",
                "check",
                "record-access",
                "offer",
                "offers",
                "withdraw-offer",
            ],
        ),
        (
            "trials",
            &[
                "register",
                "show",
                "list",
                "enroll",
                "withdraw",
                "participant",
                "sites",
            ],
        ),
        (
            "billing",
            &[
                "buy",
                "purchase",
                "purchases",
                "history",
                "balance",
                "withdraw",
                "market",
            ],
        ),
        ("stake", &["bond", "unbond", "claim", "show", "rewards"]),
        (
            "attest",
            &[
                "commit", "anchor", "prove", "submit", "send", "list", "show",
            ],
        ),
        ("keys", &["add", "list", "show", "delete"]),
    ];
    for (group, subcommands) in groups {
        let out = hmesh(dir.path()).args([group, "--help"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        for sub in subcommands {
            assert!(
                help.contains(sub),
                "hmesh {group} --help lacks {sub}:\n{help}"
            );
        }
    }
}

#[test]
fn keys_roundtrip_in_the_encrypted_keystore() {
    let dir = sandbox();
    let mnemonic = dir.path().join("m.txt");
    // The public BIP-39 test vector: synthetic, holds nothing.
    std::fs::write(&mnemonic, "abandon ".repeat(23) + "art").unwrap();
    hmesh(dir.path())
        .args(["keys", "add", "alice", "--recover", "--mnemonic-file"])
        .arg(&mnemonic)
        .assert()
        .success();
    let show = hmesh(dir.path())
        .args(["keys", "show", "alice"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(show.stdout).unwrap().trim(),
        "wasm1r5v5srda7xfth3hn2s26txvrcrntldju3hkw75"
    );
    let show = hmesh(dir.path())
        .args(["keys", "show", "alice", "--bech32-prefix", "cosmos"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(show.stdout).unwrap().trim(),
        "cosmos1r5v5srda7xfth3hn2s26txvrcrntldjumt8mhl"
    );
    // Wrong passphrase: refused, clearly.
    let (code, err) = stderr_of(
        hmesh(dir.path())
            .env("HMESH_PASSPHRASE", "wrong")
            .args(["keys", "show", "alice"]),
    );
    assert_eq!(code, 1);
    assert!(err.contains("wrong passphrase for key 'alice'"), "{err}");
    // New keys print their mnemonic once (JSON here), and list shows both without secrets.
    let out = hmesh(dir.path())
        .args(["-o", "json", "keys", "add", "bob"])
        .output()
        .unwrap();
    let created: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(created["mnemonic"].as_str().unwrap().split(' ').count(), 24);
    let list = hmesh(dir.path()).args(["keys", "list"]).output().unwrap();
    let list = String::from_utf8(list.stdout).unwrap();
    assert!(
        list.contains("alice") && list.contains("bob") && !list.contains("abandon"),
        "{list}"
    );
    let (code, err) = stderr_of(hmesh(dir.path()).args(["keys", "delete", "bob"]));
    assert!(code != 0 && err.contains("--yes"), "{err}");
    hmesh(dir.path())
        .args(["keys", "delete", "bob", "--yes"])
        .assert()
        .success();
    let (code, err) = stderr_of(hmesh(dir.path()).args(["keys", "show", "bob"]));
    assert!(code != 0 && err.contains("key 'bob' not found"), "{err}");
}

#[test]
fn bad_input_is_refused_before_signing_with_a_clear_message() {
    let dir = sandbox();
    let bad_json = dir.path().join("msgs.json");
    std::fs::write(&bad_json, "[{\"wasm\": ").unwrap();
    let not_msg = dir.path().join("not-msg.json");
    std::fs::write(&not_msg, r#"[{"teleport": {"to": "mars"}}]"#).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["--chain", "mars", "dao", "list"],
            "unknown chain 'mars' (the deployment has: genomics-1)",
        ),
        (vec!["dao", "list"], "no chain selected"),
        (
            vec![
                "--chain",
                "genomics",
                "--from",
                "x",
                "consent",
                "grant",
                "--grantee",
                "wasm1nope",
                "--dataset",
                "00",
                "--purpose",
                "p",
                "--scope",
                "a",
            ],
            "invalid address 'wasm1nope'",
        ),
        (
            vec![
                "--chain",
                "genomics",
                "--from",
                "x",
                "consent",
                "grant",
                "--grantee",
                "cosmos1r5v5srda7xfth3hn2s26txvrcrntldjumt8mhl",
                "--dataset",
                "00",
                "--purpose",
                "p",
                "--scope",
                "a",
            ],
            "expected the 'wasm' prefix",
        ),
        (
            vec![
                "--chain",
                "genomics",
                "--from",
                "x",
                "consent",
                "grant",
                "--grantee",
                "researcher",
                "--dataset",
                "zz",
                "--purpose",
                "p",
                "--scope",
                "a",
            ],
            "--dataset must be hex",
        ),
        (
            vec![
                "--chain",
                "genomics",
                "--from",
                "x",
                "dao",
                "propose",
                "--title",
                "t",
                "--msgs",
                bad_json.to_str().unwrap(),
            ],
            "is not valid JSON",
        ),
        (
            vec![
                "--chain",
                "genomics",
                "--from",
                "x",
                "dao",
                "propose",
                "--title",
                "t",
                "--msgs",
                not_msg.to_str().unwrap(),
            ],
            "message 0 is not a CosmosMsg",
        ),
        (
            vec![
                "--chain", "genomics", "--from", "x", "dao", "propose", "--title", "t",
            ],
            "a proposal needs messages",
        ),
        (
            vec!["--chain", "genomics", "dao", "vote", "1", "yes"],
            "pass --from KEY",
        ),
        (
            vec![
                "--chain", "genomics", "--from", "ghost", "dao", "vote", "1", "yes",
            ],
            "key 'ghost' not found",
        ),
        (
            vec!["--chain", "genomics", "dao", "show", "1"],
            "unreachable",
        ),
        (
            vec!["--chain", "genomics", "stake", "show", "researcher"],
            "no staking contract known for chain genomics-1",
        ),
    ];
    for (args, expected) in cases {
        let (code, err) = stderr_of(hmesh(dir.path()).args(&args));
        let expected = if expected == "unreachable" {
            "cannot reach http://127.0.0.1:1"
        } else {
            expected
        };
        assert_eq!(code, 1, "hmesh {args:?} exited {code}: {err}");
        assert!(
            err.contains(expected),
            "hmesh {args:?}: expected '{expected}' in:\n{err}"
        );
    }
}

#[test]
fn usage_errors_exit_2_and_json_errors_are_json() {
    let dir = sandbox();
    let (code, err) = stderr_of(hmesh(dir.path()).args(["dao", "vote", "one", "yes"]));
    assert_eq!(code, 2, "{err}");
    let (code, err) = stderr_of(hmesh(dir.path()).args(["dao", "vote", "1", "maybe"]));
    assert_eq!(code, 2, "{err}");
    let (code, err) =
        stderr_of(hmesh(dir.path()).args(["-o", "json", "--chain", "mars", "dao", "list"]));
    assert_eq!(code, 1);
    let parsed: serde_json::Value = serde_json::from_str(err.trim()).unwrap();
    assert!(parsed["error"]
        .as_str()
        .unwrap()
        .contains("unknown chain 'mars'"));
}

#[test]
fn completions_and_offline_commitments() {
    let dir = sandbox();
    let out = hmesh(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        script.contains("_hmesh") && script.contains("propose"),
        "not a bash completion"
    );
    // attest commit runs the proofs crate offline; same salt → same commitment.
    let commit = |salt: &str| {
        let out = hmesh(dir.path())
            .args([
                "attest",
                "commit",
                "--attribute",
                "hba1c",
                "--value",
                "64137",
                "--patient",
                "wasm1r5v5srda7xfth3hn2s26txvrcrntldju3hkw75",
                "--salt",
                salt,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["commitment"].clone()
    };
    let (one, two) = (
        format!("01{}", "00".repeat(31)),
        format!("02{}", "00".repeat(31)),
    );
    assert_eq!(commit(&one), commit(&one));
    assert_ne!(commit(&one), commit(&two));
}
