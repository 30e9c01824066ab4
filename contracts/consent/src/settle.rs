//! The consent contract's end of the settlement channel (`healthmesh-settle-1`): a trusted
//! billing contract sells this chain's offers. A purchase packet is checked against its offer
//! in full before anything is written, so an error acknowledgement (which makes the billing
//! contract refund) never leaves a token or a counted sale behind.

#[cfg(not(feature = "library"))]
use cosmwasm_std::entry_point;
use cosmwasm_std::{
    from_json, to_json_binary, BlockInfo, Deps, DepsMut, Env, Event, IbcBasicResponse,
    IbcChannelCloseMsg, IbcChannelConnectMsg, IbcChannelOpenMsg, IbcChannelOpenResponse,
    IbcPacketAckMsg, IbcPacketReceiveMsg, IbcPacketTimeoutMsg, IbcReceiveResponse, Never, StdAck,
};
use cw_utils::Expiration;
use healthmesh_controllers::validate;
use healthmesh_types::consent::{ConsentRecord, ConsentStatus, Offer, OfferStatus};
use healthmesh_types::consent::{MAX_ATTRIBUTE_LEN, MAX_PURPOSE_LEN, MAX_SCOPE};
use healthmesh_types::events::{self, attr};
use healthmesh_types::settle::{PurchaseAck, PurchasePacket, SettlePacket, ACCOUNT_ADDRESS_LEN};

use crate::contract::mint;
use crate::offers::{load_offer, offer_event};
use crate::state::{offers, CUSTODIANS, PAUSE, PURCHASES, SETTLEMENT};
use crate::ContractError;

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_open(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelOpenMsg,
) -> Result<IbcChannelOpenResponse, ContractError> {
    Ok(SETTLEMENT.open(deps, &env, &msg)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_connect(
    deps: DepsMut,
    _env: Env,
    msg: IbcChannelConnectMsg,
) -> Result<IbcBasicResponse, ContractError> {
    Ok(SETTLEMENT.connect_response(deps, &msg, events::SETTLE_CHANNEL_OPEN)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_channel_close(
    deps: DepsMut,
    env: Env,
    msg: IbcChannelCloseMsg,
) -> Result<IbcBasicResponse, ContractError> {
    Ok(SETTLEMENT.close_response(deps, &env, &msg, events::SETTLE_CHANNEL_CLOSED)?)
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_receive(
    deps: DepsMut,
    env: Env,
    msg: IbcPacketReceiveMsg,
) -> Result<IbcReceiveResponse, Never> {
    let response = match receive(deps, &env, &msg) {
        Ok((ack, events)) => match to_json_binary(&ack) {
            Ok(data) => IbcReceiveResponse::new(StdAck::success(data)).add_events(events),
            // Unreachable for these types; the state written stays consistent either way,
            // but say so rather than pretend a refund.
            Err(e) => IbcReceiveResponse::new(StdAck::error(e.to_string())),
        },
        Err(error) => IbcReceiveResponse::new(StdAck::error(error.to_string())).add_event(
            Event::new(events::PURCHASE_REFUSED)
                .add_attribute("channel_id", &msg.packet.dest.channel_id)
                .add_attribute("sequence", msg.packet.sequence.to_string())
                .add_attribute("error", error.to_string()),
        ),
    };
    Ok(response)
}

/// This contract sends no packets on the settlement channel: nothing comes back.
#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_ack(
    _deps: DepsMut,
    _env: Env,
    _msg: IbcPacketAckMsg,
) -> Result<IbcBasicResponse, ContractError> {
    Err(ContractError::MalformedPacket(
        "the consent contract sends no packets".into(),
    ))
}

#[cfg_attr(not(feature = "library"), entry_point)]
pub fn ibc_packet_timeout(
    _deps: DepsMut,
    _env: Env,
    _msg: IbcPacketTimeoutMsg,
) -> Result<IbcBasicResponse, ContractError> {
    Err(ContractError::MalformedPacket(
        "the consent contract sends no packets".into(),
    ))
}

fn receive(
    deps: DepsMut,
    env: &Env,
    msg: &IbcPacketReceiveMsg,
) -> Result<(PurchaseAck, Vec<Event>), ContractError> {
    let channel = SETTLEMENT.packet_source(deps.storage, &msg.packet)?;
    let SettlePacket::Purchase(purchase) = from_json::<SettlePacket>(&msg.packet.data)
        .map_err(|e| ContractError::MalformedPacket(e.to_string()))?;
    // A pause refuses sales (the billing chain refunds); it never blocks a withdrawal.
    PAUSE.assert_not_paused(deps.storage, &env.block)?;
    let chain = channel.counterparty_chain.as_str();
    // Keyed by the billing contract's port: a redeployed billing contract starts again at 1.
    let served = (channel.counterparty_port.as_str(), purchase.purchase_id);
    if let Some(token_id) = PURCHASES.may_load(deps.storage, served)? {
        return Err(ContractError::DuplicatePurchase {
            chain: chain.into(),
            purchase_id: purchase.purchase_id,
            token_id,
        });
    }
    let mut offer = load_offer(deps.storage, purchase.offer_id)?;
    let record = check_purchase(deps.as_ref(), &env.block, &offer, &purchase)?;
    let custodian = CUSTODIANS
        .may_load(deps.storage, (&offer.patient, offer.dataset.as_slice()))?
        .map(|c| deps.api.addr_canonicalize(c.as_str()))
        .transpose()?;
    let patient_account = deps.api.addr_canonicalize(offer.patient.as_str())?;
    let relayer = deps.api.addr_canonicalize(msg.relayer.as_str())?;

    // Every check passed: write.
    let (token_id, granted) = mint(deps.storage, &record)?;
    offer.sales += 1;
    offers().save(deps.storage, offer.id, &offer)?;
    PURCHASES.save(deps.storage, served, &token_id)?;
    let sold = offer_event(events::OFFER_SOLD, &offer)
        .add_attribute(attr::TOKEN_ID, &token_id)
        .add_attribute("grantee", &record.grantee)
        .add_attribute(attr::PURCHASE_ID, purchase.purchase_id.to_string())
        .add_attribute("billing_chain", chain)
        .add_attribute("price", purchase.paid.to_string())
        .add_attribute("sales", offer.sales.to_string());
    let ack = PurchaseAck {
        purchase_id: purchase.purchase_id,
        token_id,
        grantee: record.grantee.to_string(),
        patient_payout: offer.payout,
        patient_account: patient_account.into(),
        custodian: custodian.map(Into::into),
        relayer: relayer.into(),
    };
    Ok((ack, vec![granted, sold]))
}

/// The consent record a purchase buys, or why the offer does not sell it; reads only.
fn check_purchase(
    deps: Deps,
    block: &BlockInfo,
    offer: &Offer,
    purchase: &PurchasePacket,
) -> Result<ConsentRecord, ContractError> {
    let refused = |reason: String| ContractError::PurchaseRefused {
        offer_id: offer.id,
        reason,
    };
    if let OfferStatus::Withdrawn { .. } = offer.status {
        return Err(ContractError::OfferWithdrawn(offer.id));
    }
    if offer.max_sales.is_some_and(|max| offer.sales >= max) {
        return Err(ContractError::SoldOut(offer.id));
    }
    if purchase.paid != offer.price {
        return Err(refused(format!(
            "paid {}, the price is {}",
            purchase.paid, offer.price
        )));
    }
    validate::identifier("purpose", &purchase.purpose, MAX_PURPOSE_LEN)?;
    if !offer.purposes.contains(&purchase.purpose) {
        return Err(refused(format!(
            "purpose {} is not offered",
            purchase.purpose
        )));
    }
    validate::identifier_set("scope", &purchase.scope, MAX_SCOPE, MAX_ATTRIBUTE_LEN)?;
    if let Some(extra) = purchase.scope.iter().find(|a| !offer.scope.contains(a)) {
        return Err(refused(format!("attribute {extra} is not offered")));
    }
    if !(1..=offer.max_duration_seconds).contains(&purchase.duration_seconds) {
        return Err(refused(format!(
            "duration {} s is not within 1..={} s",
            purchase.duration_seconds, offer.max_duration_seconds
        )));
    }
    // Only a key account's bytes name the same owner on both chains.
    if purchase.buyer.len() != ACCOUNT_ADDRESS_LEN {
        return Err(ContractError::MalformedPacket(
            "buyer: not a key account's address".into(),
        ));
    }
    let grantee = deps
        .api
        .addr_humanize(&purchase.buyer.to_vec().into())
        .map_err(|e| ContractError::MalformedPacket(format!("buyer: {e}")))?;
    if grantee == offer.patient {
        return Err(ContractError::SelfGrant);
    }
    if let Some(buyers) = &offer.buyers {
        if !buyers.contains(&grantee) {
            return Err(refused(format!(
                "{grantee} is not among the offer's buyers"
            )));
        }
    }
    Ok(ConsentRecord {
        patient: offer.patient.clone(),
        grantee,
        dataset: offer.dataset.clone(),
        purpose: purchase.purpose.clone(),
        scope: purchase.scope.clone(),
        issued_at: block.time,
        issued_height: block.height,
        expires: Expiration::AtTime(block.time.plus_seconds(purchase.duration_seconds)),
        status: ConsentStatus::Active,
        uses: 0,
        last_used_at: None,
    })
}
