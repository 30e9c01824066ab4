//! Relayer fees (ibc-go v10 has no ICS-29 fee middleware, so the contract pays): the sender
//! attaches one coin to a send; it is escrowed under a fee id that travels in the packet. When
//! the packet comes back, the fee goes to the relayer that delivered it — named by the
//! receiving contract in the success ack — or back to the sender on an error ack or timeout.
//! The escrow balance always equals the sum of the open fees (tested).

use cosmwasm_std::{Addr, Api, BankMsg, Event, MessageInfo, Storage};
use healthmesh_types::attestation::RelayerFee;

use crate::state::{FEE_COUNT, RELAYER_FEES};
use crate::ContractError;

/// Escrow the funds of `info` (none, or one coin of a positive amount) as the relayer fee of
/// a packet on `channel_id`. Returns the fee id (0: no fee) and its event.
pub fn escrow(
    storage: &mut dyn Storage,
    info: &MessageInfo,
    channel_id: &str,
) -> Result<(u64, Option<Event>), ContractError> {
    let amount = match info.funds.as_slice() {
        [] => return Ok((0, None)),
        [coin] if !coin.amount.is_zero() => coin.clone(),
        other => {
            let coins: Vec<String> = other.iter().map(ToString::to_string).collect();
            return Err(ContractError::InvalidRelayerFee(coins.join(",")));
        }
    };
    let id = FEE_COUNT.may_load(storage)?.unwrap_or_default() + 1;
    FEE_COUNT.save(storage, &id)?;
    let fee = RelayerFee {
        id,
        payer: info.sender.clone(),
        amount,
        channel_id: channel_id.into(),
    };
    RELAYER_FEES.save(storage, id, &fee)?;
    let event = Event::new("relayer_fee_escrowed")
        .add_attribute("fee_id", id.to_string())
        .add_attribute("payer", fee.payer.as_str())
        .add_attribute("amount", fee.amount.to_string())
        .add_attribute("channel_id", channel_id);
    Ok((id, Some(event)))
}

/// Who gets an escrowed fee when its packet comes back.
pub enum Payee {
    /// The success ack named the relayer that delivered the packet (`named`, if it is an
    /// address of this chain); otherwise the relayer of the ack itself is paid.
    Relayer {
        named: Option<String>,
        ack_relayer: Addr,
    },
    /// Error ack or timeout: back to the sender.
    Refund { reason: &'static str },
}

/// Release fee `fee_id` (0 or an already released id: nothing to do).
pub fn release(
    storage: &mut dyn Storage,
    api: &dyn Api,
    fee_id: u64,
    payee: Payee,
) -> Result<Option<(BankMsg, Event)>, ContractError> {
    if fee_id == 0 {
        return Ok(None);
    }
    let Some(fee) = RELAYER_FEES.may_load(storage, fee_id)? else {
        return Ok(None);
    };
    RELAYER_FEES.remove(storage, fee_id);
    let (to, event) = match payee {
        Payee::Relayer { named, ack_relayer } => {
            let relayer = named
                .and_then(|a| api.addr_validate(&a).ok())
                .unwrap_or(ack_relayer);
            (relayer, Event::new("relayer_fee_paid"))
        }
        Payee::Refund { reason } => (
            fee.payer.clone(),
            Event::new("relayer_fee_refunded").add_attribute("reason", reason),
        ),
    };
    let event = event
        .add_attribute("fee_id", fee_id.to_string())
        .add_attribute("to", to.as_str())
        .add_attribute("amount", fee.amount.to_string())
        .add_attribute("channel_id", &fee.channel_id);
    let payment = BankMsg::Send {
        to_address: to.into_string(),
        amount: vec![fee.amount],
    };
    Ok(Some((payment, event)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cosmwasm_std::testing::{message_info, MockApi, MockStorage};
    use cosmwasm_std::{coin, Coin};

    fn escrow_with(funds: &[Coin]) -> Result<u64, ContractError> {
        let mut storage = MockStorage::new();
        let info = message_info(&MockApi::default().addr_make("sender"), funds);
        escrow(&mut storage, &info, "channel-0").map(|(id, _)| id)
    }

    #[test]
    fn a_fee_is_none_or_one_positive_coin() {
        assert_eq!(escrow_with(&[]).unwrap(), 0);
        assert_eq!(escrow_with(&[coin(3, "ustake")]).unwrap(), 1);
        for bad in [
            vec![coin(0, "ustake")],
            vec![coin(1, "ustake"), coin(1, "uatom")],
        ] {
            assert!(matches!(
                escrow_with(&bad),
                Err(ContractError::InvalidRelayerFee(_))
            ));
        }
    }

    #[test]
    fn a_fee_is_released_once_to_the_named_relayer_or_refunded() {
        let api = MockApi::default();
        let mut storage = MockStorage::new();
        let sender = api.addr_make("sender");
        let info = message_info(&sender, &[coin(4, "ustake")]);
        let (id, _) = escrow(&mut storage, &info, "channel-0").unwrap();
        let named = api.addr_make("hermes").to_string();
        let payee = || Payee::Relayer {
            named: Some(named.clone()),
            ack_relayer: api.addr_make("other"),
        };
        let (payment, _) = release(&mut storage, &api, id, payee()).unwrap().unwrap();
        assert_eq!(
            payment,
            BankMsg::Send {
                to_address: named.clone(),
                amount: vec![coin(4, "ustake")]
            }
        );
        assert!(release(&mut storage, &api, id, payee()).unwrap().is_none());
        // A name that is no address of this chain: the ack's relayer is paid instead.
        let (id, _) = escrow(&mut storage, &info, "channel-0").unwrap();
        let foreign = Payee::Relayer {
            named: Some("osmo1notthischain".into()),
            ack_relayer: api.addr_make("other"),
        };
        let (BankMsg::Send { to_address, .. }, _) =
            release(&mut storage, &api, id, foreign).unwrap().unwrap()
        else {
            panic!("not a send")
        };
        assert_eq!(to_address, api.addr_make("other").to_string());
        let (id, _) = escrow(&mut storage, &info, "channel-0").unwrap();
        let refund = Payee::Refund { reason: "timeout" };
        let (BankMsg::Send { to_address, .. }, _) =
            release(&mut storage, &api, id, refund).unwrap().unwrap()
        else {
            panic!("not a send")
        };
        assert_eq!(to_address, sender.to_string());
    }
}
