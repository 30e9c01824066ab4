#!/usr/bin/env python3
"""A Python client of the HealthMesh research gateway.

Stubs are generated from proto/healthmesh/research/v1/research.proto with grpcio-tools at
start (into a temporary directory), and every request is signed with the researcher's
secp256k1 key for one gateway, exactly as the README's "Research gateway: authentication"
section specifies:

    payload   = "healthmesh-research-v2\\n" + audience + "\\n" + method + "\\n"
                + hex(sha256(request_bytes)) + "\\n" + timestamp_ms + "\\n" + nonce
    signature = ECDSA-secp256k1(SHA-256(payload)), 64 bytes r||s, low-s

The audience is the gateway's (its --audience; by default the host:port it listens on), and
defaults here to --gateway.

Usage (the key is the researcher's raw private key: `hmesh keys export NAME --unsafe-export-private-key`):

    research_client.py --gateway 127.0.0.1:9390 --key-hex HEX count --attribute hba1c \\
        --op lt --values 70000 --purpose trial-eligibility
    research_client.py ... list [--chain trials-1]
    research_client.py ... verify --chain trials-1 --id 3
    research_client.py --gateway gw.example.org:443 --tls [--tls-ca ca.pem] ...

Prints one JSON document; exits 1 with the gRPC status code and message on an error.
"""

import argparse
import base64
import hashlib
import importlib
import json
import os
import secrets
import sys
import tempfile
import time

import grpc
from ecdsa import SECP256k1, SigningKey
from ecdsa.util import sigencode_string_canonize
from grpc_tools import protoc

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "proto")
PROTO = "healthmesh/research/v1/research.proto"
SERVICE = "/healthmesh.research.v1.ResearchService/"


def generated_modules():
    """Compile the .proto with grpcio-tools and import the generated modules."""
    out = tempfile.mkdtemp(prefix="hmesh-research-py-")
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    code = protoc.main(["grpc_tools.protoc", f"-I{ROOT}", f"-I{include}",
                        f"--python_out={out}", f"--grpc_python_out={out}", PROTO])
    if code != 0:
        sys.exit(f"protoc failed on {PROTO} ({code})")
    sys.path.insert(0, out)
    pb2 = importlib.import_module("healthmesh.research.v1.research_pb2")
    pb2_grpc = importlib.import_module("healthmesh.research.v1.research_pb2_grpc")
    return pb2, pb2_grpc


def payload(audience, method, request_bytes, timestamp, nonce):
    """The signed bytes (README "Research gateway: authentication")."""
    digest = hashlib.sha256(request_bytes).hexdigest()
    return f"healthmesh-research-v2\n{audience}\n{method}\n{digest}\n{timestamp}\n{nonce}".encode()


def signed_metadata(key, audience, method, request):
    timestamp = str(int(time.time() * 1000))
    nonce = secrets.token_hex(16)
    signed = payload(audience, method, request.SerializeToString(), timestamp, nonce)
    signature = key.sign_deterministic(signed, hashfunc=hashlib.sha256, sigencode=sigencode_string_canonize)
    pubkey = key.get_verifying_key().to_string("compressed")
    return [
        ("x-hm-pubkey", base64.b64encode(pubkey).decode()),
        ("x-hm-audience", audience),
        ("x-hm-timestamp", timestamp),
        ("x-hm-nonce", nonce),
        ("x-hm-signature", base64.b64encode(signature).decode()),
    ]


def attestation_json(a, pb2):
    return {"chain_id": a.key.chain_id, "id": a.key.id, "consent_id": a.consent_id,
            "validity": pb2.Validity.Name(a.validity),
            "provenance": {"source_chain": a.provenance.source_chain, "height": a.provenance.height,
                           "tx_hash": a.provenance.tx_hash, "channel_id": a.provenance.channel_id}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gateway", default="127.0.0.1:9390", help="host:port")
    parser.add_argument("--audience", help="the gateway's audience (default: --gateway)")
    parser.add_argument("--tls", action="store_true", help="connect over TLS (system roots, or --tls-ca)")
    parser.add_argument("--tls-ca", help="CA certificate (PEM) to trust for --tls")
    parser.add_argument("--key-hex", required=True, help="researcher's secp256k1 private key, hex")
    sub = parser.add_subparsers(dest="command", required=True)
    count = sub.add_parser("count")
    count.add_argument("--attribute", required=True)
    count.add_argument("--op", required=True)
    count.add_argument("--values", required=True, help="comma separated")
    count.add_argument("--purpose", required=True)
    count.add_argument("--chain", action="append", default=[])
    listing = sub.add_parser("list")
    listing.add_argument("--chain", action="append", default=[])
    verify = sub.add_parser("verify")
    verify.add_argument("--chain", required=True)
    verify.add_argument("--id", type=int, required=True)
    args = parser.parse_args()

    pb2, pb2_grpc = generated_modules()
    key = SigningKey.from_string(bytes.fromhex(args.key_hex), curve=SECP256k1, hashfunc=hashlib.sha256)
    audience = args.audience or args.gateway
    if args.tls or args.tls_ca:
        roots = open(args.tls_ca, "rb").read() if args.tls_ca else None
        channel = grpc.secure_channel(args.gateway, grpc.ssl_channel_credentials(root_certificates=roots))
    else:
        channel = grpc.insecure_channel(args.gateway)
    stub = pb2_grpc.ResearchServiceStub(channel)
    try:
        if args.command == "count":
            request = pb2.CountCohortRequest(
                chains=args.chain, attribute=args.attribute, purpose=args.purpose,
                predicate=pb2.Predicate(op=args.op, values=[int(v) for v in args.values.split(",")]))
            reply = stub.CountCohort(request, metadata=signed_metadata(key, audience, SERVICE + "CountCohort", request))
            result = {"count": reply.count, "suppressed": reply.suppressed, "k": reply.k,
                      "indexed_heights": dict(reply.indexed_heights)}
        elif args.command == "list":
            request = pb2.ListAttestationsRequest(chains=args.chain)
            replies = stub.ListAttestations(request, metadata=signed_metadata(key, audience, SERVICE + "ListAttestations", request))
            result = [attestation_json(a, pb2) for a in replies]
        else:
            request = pb2.VerifyAttestationRequest(key=pb2.AttestationKey(chain_id=args.chain, id=args.id))
            reply = stub.VerifyAttestation(request, metadata=signed_metadata(key, audience, SERVICE + "VerifyAttestation", request))
            result = {"proof_valid": reply.proof_valid, "reason": reply.reason,
                      "validity": pb2.Validity.Name(reply.validity),
                      "provenance": {"source_chain": reply.provenance.source_chain,
                                     "height": reply.provenance.height, "tx_hash": reply.provenance.tx_hash}}
    except grpc.RpcError as error:
        print(json.dumps({"code": error.code().name, "message": error.details()}), file=sys.stderr)
        sys.exit(1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
