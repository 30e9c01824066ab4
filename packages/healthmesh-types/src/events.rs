//! The contracts' event types and attribute keys that other crates read (the gateway's
//! indexer, the CLI, the e2e, the cross-contract tests): one definition, so a renamed event
//! breaks `cargo build` instead of an indexer silently missing it.

macro_rules! events {
    ($($(#[$doc:meta])* $name:ident = $value:literal;)*) => {
        $($(#[$doc])* pub const $name: &str = $value;)*

        /// The same events as a transaction's result carries them: wasmd prefixes a
        /// contract's event types with `wasm-`.
        pub mod tx {
            $(pub const $name: &str = concat!("wasm-", $value);)*
        }
    };
}

events! {
    CONSENT_GRANTED = "consent_granted";
    CONSENT_REVOKED = "consent_revoked";
    CONSENT_USED = "consent_used";
    CUSTODIAN_DESIGNATED = "custodian_designated";
    ANCHOR_CONFLICT = "anchor_conflict";
    ATTESTATION_RECORDED = "attestation_recorded";
    ATTESTATION_RECEIVED = "attestation_received";
    ATTESTATION_SENT = "attestation_sent";
    /// A consent revoked on its source chain: every attestation under it is invalid here.
    CONSENT_TOMBSTONED = "consent_tombstoned";
    /// An attester slashed on its chain: every attestation it anchored is invalid here.
    ATTESTER_TOMBSTONED = "attester_tombstoned";
    ATTESTER_SLASHED = "attester_slashed";
    NOTICE_DEFERRED = "notice_deferred";
    BONDED = "bonded";
    HOOK_FAILED = "hook_failed";
    PROPOSAL_CREATED = "proposal_created";
    PROPOSAL_EXECUTION_FAILED = "proposal_execution_failed";
    COUNCIL_ACTION_PROPOSED = "council_action_proposed";
    COUNCIL_ACTION_APPROVED = "council_action_approved";
    COUNCIL_ACTION_EXECUTED = "council_action_executed";
    GOVERNANCE_CHANNEL_OPEN = "governance_channel_open";
    GOVERNANCE_CHANNEL_CLOSED = "governance_channel_closed";
    NETWORK_PAUSE_SENT = "network_pause_sent";
    NETWORK_PAUSE_APPLIED = "network_pause_applied";
    NETWORK_PAUSE_ANSWERED = "network_pause_answered";
    NETWORK_PAUSE_STEP_FAILED = "network_pause_step_failed";
    REMOTE_EXECUTION_SENT = "remote_execution_sent";
    REMOTE_EXECUTION_RECEIVED = "remote_execution_received";
    REMOTE_EXECUTION_RESULT = "remote_execution_result";
    NETWORK_VOTE_OPENED = "network_vote_opened";
    NETWORK_VOTE_ANSWERED = "network_vote_answered";
    NETWORK_TALLY_SENT = "network_tally_sent";
    NETWORK_TALLY_RECEIVED = "network_tally_received";
    NETWORK_TALLY_ANSWERED = "network_tally_answered";
    GOVERNANCE_PACKET_REFUSED = "governance_packet_refused";
    OFFER_PUBLISHED = "offer_published";
    OFFER_WITHDRAWN = "offer_withdrawn";
    /// A purchase from the billing chain minted a consent token under an offer.
    OFFER_SOLD = "offer_sold";
    /// A purchase from the billing chain refused by the consent contract (error ack).
    PURCHASE_REFUSED = "purchase_refused";
    /// Billing: a researcher's payment escrowed and its packet sent.
    PURCHASE_CREATED = "billing_purchase";
    /// Billing: a purchase acknowledged with its consent token; one payout event per payee.
    PURCHASE_SETTLED = "billing_settled";
    PAYOUT = "billing_payout";
    REFUND = "billing_refund";
    /// Billing: an acknowledgement that could not be read; the escrow waits for governance.
    PURCHASE_DISPUTED = "billing_disputed";
    WITHDRAWAL = "billing_withdrawal";
    SETTLE_CHANNEL_OPEN = "settle_channel_open";
    SETTLE_CHANNEL_CLOSED = "settle_channel_closed";
    TRIAL_REGISTERED = "trial_registered";
    TRIAL_SUSPENDED = "trial_suspended";
    TRIAL_RESUMED = "trial_resumed";
    SITE_APPROVED = "site_approved";
    SITE_REVOKED = "site_revoked";
    PARTICIPANT_ENROLLED = "participant_enrolled";
    PARTICIPANT_WITHDRAWN = "participant_withdrawn";
    /// Trials: a site's milestone claim for a participant, sent to the billing chain.
    MILESTONE_CLAIMED = "milestone_claimed";
    /// Trials: the billing chain paid the milestone (success ack).
    MILESTONE_PAID = "milestone_paid";
    /// Trials: the billing chain refused the milestone or the packet timed out; the site may
    /// claim it again.
    MILESTONE_UNPAID = "milestone_unpaid";
    /// Trials: the trial's budget terms sent to the billing chain, and its answer.
    BUDGET_ANNOUNCED = "trial_budget_announced";
    BUDGET_ANSWERED = "trial_budget_answered";
    /// Billing: a trial's budget opened (terms from the trials chain), funded, paid from,
    /// refused a payout, reclaimed by the sponsor after the trial's end.
    TRIAL_BUDGET_OPENED = "billing_trial_budget_opened";
    TRIAL_FUNDED = "billing_trial_funded";
    MILESTONE_PAYOUT = "billing_milestone_payout";
    MILESTONE_REFUSED = "billing_milestone_refused";
    TRIAL_RECLAIMED = "billing_trial_reclaimed";
    TRIALS_CHANNEL_OPEN = "trials_channel_open";
    TRIALS_CHANNEL_CLOSED = "trials_channel_closed";
}

/// Attribute keys read outside the contract that writes them.
pub mod attr {
    pub const TOKEN_ID: &str = "token_id";
    pub const ATTESTATION_ID: &str = "attestation_id";
    pub const CONSENT_ID: &str = "consent_id";
    pub const CHANNEL_ID: &str = "channel_id";
    pub const SOURCE_CHAIN: &str = "source_chain";
    pub const ATTESTER: &str = "attester";
    pub const PROPOSAL_ID: &str = "proposal_id";
    pub const ACTION_ID: &str = "action_id";
    pub const OFFER_ID: &str = "offer_id";
    pub const PURCHASE_ID: &str = "purchase_id";
    pub const TRIAL_ID: &str = "trial_id";
    pub const MILESTONE: &str = "milestone";
    pub const PARTICIPANT: &str = "participant";
}

#[cfg(test)]
mod tests {
    #[test]
    fn transaction_names_carry_the_wasm_prefix() {
        assert_eq!(super::tx::CONSENT_GRANTED, "wasm-consent_granted");
        assert_eq!(super::ATTESTATION_RECEIVED, "attestation_received");
    }
}
