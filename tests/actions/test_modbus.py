"""Modbus TCP against pymodbus's own server on a free localhost port."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import ValidationError
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from sightwire.actions.modbus import ModbusAction
from sightwire.config.actions import ModbusConfig
from sightwire.core import Event

pytestmark = pytest.mark.anyio
UNIT = 3
WRITE_FUNCTIONS = {5, 6, 15, 16}


@dataclass
class Plc:
    """A Modbus device: 100 coils and 100 holding registers, every write logged."""

    port: int
    writes: list[tuple[int, int, list[Any], float]] = field(default_factory=list)

    async def on_access(
        self, function: int, start: int, address: int, count: int, regs: list[int], values: Any
    ) -> None:
        if function in WRITE_FUNCTIONS and values is not None:
            self.writes.append((function, address, list(values), time.monotonic()))

    def device(self) -> SimDevice:
        coils = [SimData(0, count=100, values=False, datatype=DataType.BITS)]
        inputs = [SimData(0, count=8, values=False, datatype=DataType.BITS)]
        holding = [SimData(0, count=100, values=0, datatype=DataType.REGISTERS)]
        input_regs = [SimData(0, count=8, values=0, datatype=DataType.REGISTERS)]
        return SimDevice(UNIT, simdata=(coils, inputs, holding, input_regs), action=self.on_access)

    async def read(self, kind: str, address: int, count: int = 1) -> list[Any]:
        client = AsyncModbusTcpClient("127.0.0.1", port=self.port, timeout=2, retries=0)
        await client.connect()
        try:
            if kind == "coil":
                bits = (await client.read_coils(address, count=count, device_id=UNIT)).bits
                return list(bits[:count])
            response = await client.read_holding_registers(address, count=count, device_id=UNIT)
            return list(response.registers)
        finally:
            client.close()


@asynccontextmanager
async def running_plc(port: int) -> AsyncIterator[Plc]:
    plc = Plc(port)
    server = ModbusTcpServer(plc.device(), address=("127.0.0.1", port))
    await server.serve_forever(background=True)
    try:
        yield plc
    finally:
        await server.shutdown()


def modbus(port: int, **config: Any) -> ModbusAction:
    base = {"type": "modbus", "host": "127.0.0.1", "port": port, "unit": UNIT, "timeout_s": 1}
    return ModbusAction("stop_belt", ModbusConfig.model_validate({**base, **config}))


async def send_once(action: ModbusAction, event: Event) -> Any:
    try:
        return await action.send(event)
    finally:
        await action.close()


async def test_writes_one_coil(closed_port: int, event: Event) -> None:
    async with running_plc(closed_port) as plc:
        result = await send_once(modbus(plc.port, write="coil", address=16, value=True), event)
        assert result.ok, result
        assert await plc.read("coil", 15, 3) == [False, True, False]
    assert [w[:3] for w in plc.writes] == [(5, 16, [True])]


async def test_writes_several_coils_and_registers(closed_port: int, event: Event) -> None:
    async with running_plc(closed_port) as plc:
        coils = modbus(plc.port, write="coil", address=4, value=[1, 0, 1])
        registers = modbus(plc.port, write="register", address=10, value=[7, 65535])
        register = modbus(plc.port, write="register", address=20, value=1234)
        for action in (coils, registers, register):
            assert (await send_once(action, event)).ok
        assert await plc.read("coil", 4, 3) == [True, False, True]
        assert await plc.read("register", 10, 2) == [7, 65535]
        assert await plc.read("register", 20) == [1234]
    assert [w[:2] for w in plc.writes] == [(15, 4), (16, 10), (6, 20)]


async def test_pulse_writes_then_writes_back(closed_port: int, event: Event) -> None:
    async with running_plc(closed_port) as plc:
        action = modbus(plc.port, write="coil", address=16, value=True, pulse_ms=150)
        result = await send_once(action, event)
        assert result.ok and "pulsed" in result.detail
        assert await plc.read("coil", 16) == [False]
    (fn1, addr1, on, t_on), (fn2, addr2, off, t_off) = plc.writes
    assert (fn1, addr1, on, fn2, addr2, off) == (5, 16, [True], 5, 16, [False])
    assert t_off - t_on >= 0.15


async def test_register_pulse_with_reset_value(closed_port: int, event: Event) -> None:
    async with running_plc(closed_port) as plc:
        action = modbus(plc.port, write="register", address=3, value=2, pulse_ms=1, reset=9)
        assert (await send_once(action, event)).ok
        assert await plc.read("register", 3) == [9]
    assert [w[2] for w in plc.writes] == [[2], [9]]


async def test_server_down_is_retryable(closed_port: int, event: Event) -> None:
    result = await send_once(modbus(closed_port, write="coil", address=1, value=True), event)
    assert not result.ok and result.retryable
    assert f"127.0.0.1:{closed_port}" in result.detail


async def test_connects_once_the_plc_is_up(closed_port: int, event: Event) -> None:
    action = modbus(closed_port, write="coil", address=2, value=True)
    try:
        assert (await action.send(event)).retryable
        async with running_plc(closed_port) as plc:
            assert (await action.send(event)).ok
            assert (await action.send(event)).ok
            assert await plc.read("coil", 2) == [True]
    finally:
        await action.close()
    assert len(plc.writes) == 2


async def test_illegal_address_is_final(closed_port: int, event: Event) -> None:
    async with running_plc(closed_port) as plc:
        result = await send_once(modbus(plc.port, write="coil", address=500, value=True), event)
    assert not result.ok and not result.retryable
    assert "illegal data address" in result.detail


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"write": "coil", "address": 1, "value": 5}, "coils take true/false"),
        ({"write": "register", "address": 1, "value": True}, "registers take whole numbers"),
        ({"write": "register", "address": 1, "value": 70000}, "registers take whole numbers"),
        ({"write": "register", "address": 1, "value": []}, "1 to 123 values"),
        ({"write": "coil", "address": 1, "value": [1, 0], "reset": [1]}, "as many values"),
        ({"write": "register", "address": 65535, "value": [1, 2]}, "past address 65535"),
    ],
)
def test_bad_configs_are_refused(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ModbusConfig.model_validate({"type": "modbus", "host": "plc", **config})
