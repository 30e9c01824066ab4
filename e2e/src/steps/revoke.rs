//! Step 3: the patient revokes the consent; the researcher propagates the revocation; trials-1
//! holds every attestation under that consent as revoked.

use std::time::Duration;

use anyhow::Result;
use healthmesh_client::deployment::contract;
use healthmesh_types::attestation::{
    AttestationStatus, AttestationsResponse, ExecuteMsg as AttestationMsg, QueryMsg,
};
use healthmesh_types::consent::ExecuteMsg as ConsentMsg;

use super::{REMOTE, SOURCE};
use crate::evidence::Evidence;
use crate::net::{wait_for, Net};

pub fn run(net: &Net, ev: &mut Evidence, token: &str) -> Result<()> {
    println!("== 3. revoke consent {token}; propagate to {REMOTE}");
    let revoke = ConsentMsg::RevokeConsent {
        token_id: token.into(),
        reason: None,
    };
    ev.see(&revoke);
    ev.measure(
        "revoke_consent",
        &net.execute(SOURCE, &net.patient, contract::CONSENT, &revoke)?,
    );
    let propagate = AttestationMsg::PropagateRevocation {
        consent_token_id: token.into(),
    };
    ev.see(&propagate);
    ev.measure(
        "propagate_revocation",
        &net.execute(SOURCE, "researcher", contract::ATTESTATION, &propagate)?,
    );
    let query = QueryMsg::AttestationsByConsent {
        source_chain: SOURCE.into(),
        consent_id: token.into(),
        start_after: None,
        limit: Some(30),
    };
    let revoked = wait_for(
        "the revocation on the remote chain",
        Duration::from_secs(120),
        || {
            let page: AttestationsResponse = net.query(REMOTE, contract::ATTESTATION, &query)?;
            let all = !page.attestations.is_empty()
                && page
                    .attestations
                    .iter()
                    .all(|a| matches!(a.status, AttestationStatus::Revoked { .. }));
            Ok(all.then_some(page.attestations.len()))
        },
    )?;
    println!("   revocation reached {REMOTE}: {revoked} attestation(s) under consent {token} now revoked there");
    Ok(())
}
