#!/usr/bin/env python3
"""HealthMesh localnet: three single-validator wasmd chains (genomics-1, trials-1,
billing-1) on 127.0.0.1, the HealthMesh contracts deployed on each, Hermes relaying the
attestation channels between them.

    localnet.py up       init + start chains, connect, deploy, open channels, start Hermes
    localnet.py status   the status table (chains, ports, heights, contracts, channels, relayer)
    localnet.py down     stop every process it started
    localnet.py reset    down, then delete .localnet/

Every step is idempotent: running `up` twice reports what is already up. State lives in
.localnet/ (homes, logs, pid files, test-keyring mnemonics — never committed) and the
machine-readable .localnet/deployment.json that the CLI, gateway and tests read.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALNET = Path(os.environ.get("LOCALNET_HOME", ROOT / ".localnet"))
DEPLOYMENT = LOCALNET / "deployment.json"
CHAINS = ["genomics-1", "trials-1", "billing-1"]
OFFSET = {"genomics-1": 0, "trials-1": 100, "billing-1": 200}
DENOM = "ustake"
PREFIX = "wasm"
ROLES = ["validator", "relayer", "custodian", "patient", "researcher", "dao-1", "dao-2", "dao-3"] + [
    f"council-{i}" for i in range(1, 13)
]
CHANNEL_VERSION = "healthmesh-attest-2"
PAIRS = [("genomics-1", "trials-1"), ("genomics-1", "billing-1"), ("trials-1", "billing-1")]
PROOF_SEED = "healthmesh-localnet"


def log(msg):
    print(f"[localnet] {msg}", file=sys.stderr, flush=True)


class Failure(Exception):
    pass


def ports(chain):
    o = OFFSET[chain]
    return {"rpc": 26657 + o, "p2p": 26656 + o, "grpc": 9090 + o, "api": 1317 + o, "pprof": 6060 + o}


def home(chain):
    return LOCALNET / chain


def node(chain):
    return f"tcp://127.0.0.1:{ports(chain)['rpc']}"


def run(cmd, env=None, check=True, capture=True, input=None):
    res = subprocess.run(cmd, env=env, text=True, capture_output=capture, input=input)
    if check and res.returncode != 0:
        detail = (res.stderr or res.stdout or "(output shown above)").strip()[-2000:]
        raise Failure(f"{' '.join(map(str, cmd[:6]))} … failed:\n{detail}")
    return res


def binary(script):
    out = run([str(ROOT / "localnet" / script)], capture=True)
    return out.stdout.strip().splitlines()[-1]


class Wasmd:
    def __init__(self):
        self.bin = binary("build-wasmd.sh")
        lib = str(Path(self.bin).parent.parent / "lib")
        self.env = dict(os.environ, LD_LIBRARY_PATH=lib + ":" + os.environ.get("LD_LIBRARY_PATH", ""))

    def __call__(self, chain, *args, check=True, input=None):
        return run([self.bin, "--home", str(home(chain)), *map(str, args)], env=self.env, check=check, input=input)

    def addr(self, chain, role):
        return self(chain, "keys", "show", role, "-a", "--keyring-backend", "test").stdout.strip()

    def tx(self, chain, *args, sender="validator", gas="auto"):
        out = self(chain, "tx", *args, "--from", sender, "--chain-id", chain, "--node", node(chain),
                   "--keyring-backend", "test", "--gas", gas, "--gas-adjustment", "1.5",
                   "--fees", f"0{DENOM}", "--yes", "--output", "json")
        sent = json.loads(out.stdout.strip().splitlines()[-1])
        if sent.get("code", 0) != 0:
            raise Failure(f"tx on {chain} rejected: {sent.get('raw_log')}")
        for _ in range(120):
            res = self(chain, "q", "tx", sent["txhash"], "--node", node(chain), "--output", "json", check=False)
            if res.returncode == 0:
                tx = json.loads(res.stdout)
                if tx.get("code", 0) != 0:
                    raise Failure(f"tx {sent['txhash']} on {chain} failed: {tx.get('raw_log')}")
                return tx
            time.sleep(0.5)
        raise Failure(f"tx {sent['txhash']} on {chain} was not included")

    def query(self, chain, contract, msg):
        out = self(chain, "q", "wasm", "contract-state", "smart", contract, json.dumps(msg), "--node", node(chain),
                   "--output", "json")
        return json.loads(out.stdout)["data"]


def event_attr(tx, ty, key):
    for e in tx.get("events", []):
        if e["type"] == ty:
            for a in e["attributes"]:
                if a["key"] == key:
                    return a["value"]
    raise Failure(f"no {ty}.{key} in tx {tx.get('txhash')}")


def height(chain):
    try:
        out = subprocess.run(["curl", "-sf", f"http://127.0.0.1:{ports(chain)['rpc']}/status"], capture_output=True,
                             text=True, timeout=3)
        return int(json.loads(out.stdout)["result"]["sync_info"]["latest_block_height"])
    except Exception:
        return None


def alive(pidfile):
    try:
        os.kill(int(Path(pidfile).read_text()), 0)
        return True
    except Exception:
        return False


def load_deployment():
    return json.loads(DEPLOYMENT.read_text()) if DEPLOYMENT.exists() else {"chains": {}, "connections": {}, "channels": []}


def save_deployment(d):
    DEPLOYMENT.write_text(json.dumps(d, indent=2) + "\n")


# --- chains -------------------------------------------------------------------------------

def init_chain(w, chain):
    h = home(chain)
    if (h / "config" / "initialised").exists():
        log(f"{chain}: already initialised")
        return
    shutil.rmtree(h, ignore_errors=True)
    (h / "keys").mkdir(parents=True)
    w(chain, "init", "node", "--chain-id", chain, "--default-denom", DENOM)
    for role in ROLES:
        key = w(chain, "keys", "add", role, "--keyring-backend", "test", "--output", "json")
        (h / "keys" / f"{role}.json").write_text(key.stdout or key.stderr)
        w(chain, "genesis", "add-genesis-account", role, f"1000000000000{DENOM}", "--keyring-backend", "test")
    w(chain, "genesis", "gentx", "validator", f"100000000{DENOM}", "--chain-id", chain, "--keyring-backend", "test")
    w(chain, "genesis", "collect-gentxs")
    p = ports(chain)
    edit(h / "config" / "config.toml", [
        (r'(\[rpc\][^\[]*?\nladdr = )"[^"]*"', rf'\1"tcp://127.0.0.1:{p["rpc"]}"'),
        (r'(\[p2p\][^\[]*?\nladdr = )"[^"]*"', rf'\1"tcp://127.0.0.1:{p["p2p"]}"'),
        (r'pprof_laddr = "[^"]*"', f'pprof_laddr = "localhost:{p["pprof"]}"'),
        (r'timeout_commit = "[^"]*"', 'timeout_commit = "1s"'),
        (r'timeout_propose = "[^"]*"', 'timeout_propose = "1s"'),
    ])
    edit(h / "config" / "app.toml", [
        (r'minimum-gas-prices = "[^"]*"', f'minimum-gas-prices = "0{DENOM}"'),
        (r'(\[api\][^\[]*?\nenable = )false', r'\1true'),
        (r'address = "tcp://localhost:1317"', f'address = "tcp://127.0.0.1:{p["api"]}"'),
        (r'address = "localhost:9090"', f'address = "127.0.0.1:{p["grpc"]}"'),
    ])
    (h / "config" / "initialised").touch()
    log(f"{chain}: initialised (rpc {p['rpc']}, grpc {p['grpc']}, p2p {p['p2p']}, api {p['api']})")


def edit(path, replacements):
    """Regex edits, each of which must match exactly once."""
    text = path.read_text()
    for pattern, replacement in replacements:
        text, n = re.subn(pattern, replacement, text, count=1, flags=re.S)
        if n != 1:
            raise Failure(f"{path.name}: no match for {pattern!r} (wasmd changed its config format?)")
    path.write_text(text)


def start_chain(w, chain):
    h = home(chain)
    if alive(h / "node.pid"):
        log(f"{chain}: already running (pid {(h / 'node.pid').read_text().strip()})")
        return
    logf = open(h / "node.log", "a")
    proc = subprocess.Popen([w.bin, "start", "--home", str(h)], env=w.env, stdout=logf, stderr=subprocess.STDOUT,
                            start_new_session=True)
    (h / "node.pid").write_text(str(proc.pid))
    for _ in range(120):
        if (height(chain) or 0) >= 2:
            log(f"{chain}: started (pid {proc.pid})")
            return
        if proc.poll() is not None:
            raise Failure(f"{chain} exited; see {h / 'node.log'}")
        time.sleep(0.5)
    raise Failure(f"{chain} produced no blocks; see {h / 'node.log'}")


# --- relayer ------------------------------------------------------------------------------

HERMES_CONFIG = LOCALNET / "hermes" / "config.toml"


def hermes_config(attestation_ports=None):
    """Render relayer-config/*.template.toml for the localnet. Until the attestation
    contracts exist (connections are made first), the packet filter relays nothing."""
    from string import Template
    chain_tpl = Template((ROOT / "relayer-config" / "chain.template.toml").read_text())
    chains = ""
    for chain in CHAINS:
        p = ports(chain)
        ports_list = (attestation_ports or {}).get(chain, [])
        chains += chain_tpl.substitute(
            chain_id=chain, rpc_port=p["rpc"], grpc_port=p["grpc"], denom=DENOM, key_store=LOCALNET / "hermes" / "keys",
            packet_filter=", ".join(f"['{port}', '*']" for port in ports_list))
    return Template((ROOT / "relayer-config" / "hermes.template.toml").read_text()).substitute(chains=chains)


def validate_hermes_config(attestation_ports):
    """Check the rendered config with the ibc-relayer crate before Hermes uses it."""
    target = Path(os.environ.get("HEALTHMESH_CACHE", Path.home() / ".cache" / "healthmesh")) / "relayer-validate-target"
    manifest = ROOT / "relayer-config" / "validate" / "Cargo.toml"
    log("relayer-config validator: building if needed (ibc-relayer 0.29.5, ~8 min the first time)")
    run(["cargo", "build", "--quiet", "--release", "--locked", "--manifest-path", str(manifest), "--target-dir",
         str(target)], capture=False)
    expected = [f"{chain}={ports[0]}" for chain, ports in attestation_ports.items()]
    out = run([str(target / "release" / "hm-relayer-config-validate"), str(HERMES_CONFIG), *expected])
    log(out.stdout.strip())


class Hermes:
    def __init__(self):
        self.bin = binary("build-hermes.sh")

    def __call__(self, *args, check=True):
        return run([self.bin, "--config", str(HERMES_CONFIG), "--json", *map(str, args)], check=check)

    def result(self, *args):
        out = self(*args)
        for line in reversed(out.stdout.strip().splitlines()):
            msg = json.loads(line)
            if "result" in msg:
                if msg.get("status") != "success":
                    raise Failure(f"hermes {' '.join(map(str, args[:3]))}: {msg['result']}")
                return msg["result"]
        raise Failure(f"hermes {' '.join(map(str, args[:3]))} printed no result")


def write_hermes_config(attestation_ports=None):
    HERMES_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    HERMES_CONFIG.write_text(hermes_config(attestation_ports))


def relayer_keys(h):
    for chain in CHAINS:
        if (LOCALNET / "hermes" / "keys" / chain / "keyring-test" / "relayer.json").exists():
            continue
        mnemonic = json.loads((home(chain) / "keys" / "relayer.json").read_text())["mnemonic"]
        mfile = LOCALNET / "hermes" / f"{chain}.mnemonic"
        mfile.write_text(mnemonic)
        h("keys", "add", "--chain", chain, "--key-name", "relayer", "--mnemonic-file", mfile, "--overwrite")


def connect(h, d):
    for a, b in PAIRS:
        key = f"{a}/{b}"
        if key in d["connections"]:
            continue
        res = h.result("create", "connection", "--a-chain", a, "--b-chain", b)
        d["connections"][key] = {a: res["a_side"]["connection_id"], b: res["b_side"]["connection_id"]}
        save_deployment(d)
        log(f"connection {a} {d['connections'][key][a]} <-> {b} {d['connections'][key][b]}")


def open_channels(h, d):
    for a, b in PAIRS:
        if any({c["a_chain"], c["b_chain"]} == {a, b} for c in d["channels"]):
            continue
        # The attestation contracts let only the chain with the smaller chain id open.
        a, b = sorted((a, b))
        conn = d["connections"][f"{a}/{b}" if f"{a}/{b}" in d["connections"] else f"{b}/{a}"][a]
        port_a = "wasm." + d["chains"][a]["contracts"]["attestation"]
        port_b = "wasm." + d["chains"][b]["contracts"]["attestation"]
        res = h.result("create", "channel", "--a-chain", a, "--a-connection", conn, "--a-port", port_a,
                       "--b-port", port_b, "--order", "unordered", "--channel-version", CHANNEL_VERSION, "--yes")
        chan = {"a_chain": a, "b_chain": b, "a_channel": res["a_side"]["channel_id"],
                "b_channel": res["b_side"]["channel_id"], "version": CHANNEL_VERSION}
        d["channels"].append(chan)
        save_deployment(d)
        log(f"channel {a} {chan['a_channel']} <-> {b} {chan['b_channel']}")


def start_hermes(h):
    pidfile = LOCALNET / "hermes" / "hermes.pid"
    if alive(pidfile):
        log(f"hermes: already running (pid {pidfile.read_text().strip()})")
        return
    logf = open(LOCALNET / "hermes" / "hermes.log", "a")
    proc = subprocess.Popen([h.bin, "--config", str(HERMES_CONFIG), "start"], stdout=logf, stderr=subprocess.STDOUT,
                            start_new_session=True)
    pidfile.write_text(str(proc.pid))
    time.sleep(2)
    if proc.poll() is not None:
        raise Failure(f"hermes exited; see {LOCALNET / 'hermes' / 'hermes.log'}")
    log(f"hermes: started (pid {proc.pid})")


# --- contracts ----------------------------------------------------------------------------

def artifacts():
    run(["make", "-C", str(ROOT), "wasm"], capture=False)
    return {name: ROOT / "artifacts" / f"healthmesh_{name}.wasm" for name in ["consent", "staking", "governance",
                                                                              "attestation"]}


def proof_keys():
    keys = LOCALNET / "proof-keys"
    if not (keys / "predicate.vk").exists():
        run(["cargo", "run", "--quiet", "--release", "--locked", "-p", "healthmesh-proofs", "--bin", "hm-proofs", "--",
             "keygen", "--seed", PROOF_SEED, "--out", str(keys)], capture=False)
    return keys


ATTESTATION_SALT = b"healthmesh-attestation-v2".hex()


def attestation_addresses(w, wasm):
    """Each chain's attestation contract address before it exists (instantiate2: checksum,
    creator, salt), so every contract is instantiated already bound to its counterparts'
    ports and no channel ever opens to an unbound port."""
    checksum = hashlib.sha256(wasm["attestation"].read_bytes()).hexdigest()
    return {chain: w(chain, "q", "wasm", "build-address", checksum, w.addr(chain, "validator"),
                     ATTESTATION_SALT, "--hex").stdout.strip().split()[-1]
            for chain in CHAINS}


def deploy(w, d, wasm, keys):
    vk = base64.b64encode((keys / "predicate.vk").read_bytes()).decode()
    predicted = attestation_addresses(w, wasm)
    for chain in CHAINS:
        if "contracts" in d["chains"].get(chain, {}):
            log(f"{chain}: contracts already deployed")
            continue
        accounts = {role: w.addr(chain, role) for role in ROLES}
        codes = {}
        for name, path in wasm.items():
            tx = w.tx(chain, "wasm", "store", path, gas="20000000")
            codes[name] = int(event_attr(tx, "store_code", "code_id"))
        council = [accounts[f"council-{i}"] for i in range(1, 13)]
        gov_msg = {
            "voting": {"instantiate_staking": {"code_id": codes["staking"], "label": "healthmesh-staking", "msg": {
                "denom": DENOM, "min_bond": "1000000", "unbonding_period": 600, "slashing_window": 300,
                "max_claims": 16, "slash_destination": {"burn": {}}, "admin": accounts["validator"], "pausers": [],
                "max_pause_seconds": None}}},
            "threshold": {"threshold_quorum": {"threshold": "0.5", "quorum": "0.33"}},
            "voting_period": 30, "timelock": 5, "allow_revote": False, "veto_threshold": None, "deposit": None,
            "council": {"members": council, "threshold": 8},
        }
        tx = w.tx(chain, "wasm", "instantiate", codes["governance"], json.dumps(gov_msg), "--label",
                  "healthmesh-governance", "--no-admin")
        governance = event_attr(tx, "instantiate", "_contract_address")
        staking = w.query(chain, governance, {"config": {}})["voting"]["staking"]["contract"]
        consent_msg = {"name": f"HealthMesh Consent ({chain})", "symbol": "HMCONSENT", "admin": governance,
                       "pausers": [], "max_pause_seconds": None}
        tx = w.tx(chain, "wasm", "instantiate", codes["consent"], json.dumps(consent_msg), "--label",
                  "healthmesh-consent", "--admin", governance)
        consent = event_attr(tx, "instantiate", "_contract_address")
        allowed = []
        for conns in d["connections"].values():
            if chain in conns:
                other = next(c for c in conns if c != chain)
                allowed.append({"connection_id": conns[chain], "chain_id": other,
                                "counterparty_port": "wasm." + predicted[other]})
        att_msg = {"consent": consent, "staking": staking, "admin": governance, "verifying_keys": [vk],
                   "allowed_connections": allowed, "predicate_policies": [], "pausers": [],
                   "max_pause_seconds": None}
        tx = w.tx(chain, "wasm", "instantiate2", codes["attestation"], json.dumps(att_msg), ATTESTATION_SALT,
                  "--hex", "--label", "healthmesh-attestation", "--admin", governance)
        attestation = event_attr(tx, "instantiate", "_contract_address")
        if attestation != predicted[chain]:
            raise Failure(f"{chain}: attestation contract at {attestation}, predicted {predicted[chain]}")
        # Voting power for the DAO members and an active attester.
        for role, amount in [("dao-1", 5_000_000), ("dao-2", 3_000_000), ("dao-3", 2_000_000), ("custodian", 2_000_000)]:
            w.tx(chain, "wasm", "execute", staking, json.dumps({"bond": {}}), "--amount", f"{amount}{DENOM}",
                 sender=role)
        p = ports(chain)
        d["chains"][chain] = {
            "chain_id": chain, "rpc": f"http://127.0.0.1:{p['rpc']}", "grpc": f"http://127.0.0.1:{p['grpc']}",
            "api": f"http://127.0.0.1:{p['api']}", "denom": DENOM, "bech32_prefix": PREFIX,
            "home": str(home(chain)), "code_ids": codes, "accounts": accounts,
            "contracts": {"governance": governance, "staking": staking, "consent": consent,
                          "attestation": attestation},
        }
        d["circuit_id"] = hashlib.sha256((keys / "predicate.vk").read_bytes()).hexdigest()
        save_deployment(d)
        log(f"{chain}: deployed governance {governance}, staking {staking}, consent {consent}, "
            f"attestation {attestation}")


# --- commands -----------------------------------------------------------------------------

def up():
    LOCALNET.mkdir(parents=True, exist_ok=True)
    w = Wasmd()
    h = Hermes()
    wasm = artifacts()
    keys = proof_keys()
    for chain in CHAINS:
        init_chain(w, chain)
        start_chain(w, chain)
    d = load_deployment()
    if not HERMES_CONFIG.exists():
        write_hermes_config()
        validate_hermes_config({})
    relayer_keys(h)
    connect(h, d)
    deploy(w, d, wasm, keys)
    ports_by_chain = {c: ["wasm." + d["chains"][c]["contracts"]["attestation"]] for c in CHAINS}
    write_hermes_config(ports_by_chain)
    validate_hermes_config(ports_by_chain)
    open_channels(h, d)
    d["relayer"] = {"binary": h.bin, "config": str(HERMES_CONFIG), "log": str(LOCALNET / "hermes" / "hermes.log")}
    save_deployment(d)
    start_hermes(h)
    status()


def status():
    d = load_deployment()
    print(f"\nHealthMesh localnet ({LOCALNET})")
    print(f"{'chain':<12} {'state':<8} {'height':>7}  {'rpc':>6} {'grpc':>6} {'p2p':>6} {'api':>6}")
    for chain in CHAINS:
        p = ports(chain)
        running = alive(home(chain) / "node.pid")
        print(f"{chain:<12} {'up' if running else 'down':<8} {str(height(chain) or '-'):>7}  "
              f"{p['rpc']:>6} {p['grpc']:>6} {p['p2p']:>6} {p['api']:>6}")
    for chain, info in d.get("chains", {}).items():
        print(f"\n{chain} contracts:")
        for name, addr in info.get("contracts", {}).items():
            print(f"  {name:<12} {addr}")
    if d.get("channels"):
        print(f"\nattestation channels (version {CHANNEL_VERSION}):")
        for c in d["channels"]:
            print(f"  {c['a_chain']} {c['a_channel']} <-> {c['b_chain']} {c['b_channel']}")
    pidfile = LOCALNET / "hermes" / "hermes.pid"
    print(f"\nrelayer: hermes {'running (pid ' + pidfile.read_text().strip() + ')' if alive(pidfile) else 'stopped'}")
    print(f"deployment file: {DEPLOYMENT}")


def down():
    pidfiles = [LOCALNET / "hermes" / "hermes.pid"] + [home(c) / "node.pid" for c in CHAINS]
    for pidfile in pidfiles:
        if not alive(pidfile):
            continue
        pid = int(pidfile.read_text())
        os.killpg(pid, signal.SIGTERM)
        for _ in range(40):
            if not alive(pidfile):
                break
            time.sleep(0.25)
        else:
            os.killpg(pid, signal.SIGKILL)
        log(f"stopped {pidfile.parent.name} (pid {pid})")
        pidfile.unlink()


def reset():
    down()
    shutil.rmtree(LOCALNET, ignore_errors=True)
    log(f"removed {LOCALNET}")


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else "status"
    commands = {"up": up, "status": status, "down": down, "reset": reset}
    if command not in commands:
        sys.exit(f"usage: {sys.argv[0]} up|status|down|reset")
    try:
        commands[command]()
    except Failure as err:
        log(f"ERROR: {err}")
        sys.exit(1)


if __name__ == "__main__":
    main()
