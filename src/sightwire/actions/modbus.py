"""Modbus TCP: write coils or holding registers on a PLC, e.g. to stop a machine.

Config::

    actions:
      stop_belt:
        type: modbus
        host: 10.0.0.20
        port: 502
        unit: 1
        write: coil          # or: register (holding register)
        address: 16          # protocol address from 0 (coil 00017 / register 40017)
        value: true          # or a list, written from `address` on
        pulse_ms: 500        # optional: write, wait 0.5 s, write `reset` (default: flipped)

One write is one request (function 5/6 for a single value, 15/16 for several). The
connection is kept and reopened after a failure. Connection errors, timeouts and a busy
device are retryable; an exception answer such as "illegal data address" is not. If
the process stops during a pulse, the write-back does not happen: the output stays
set, which is the safe side for a stop signal.
"""

from __future__ import annotations

import asyncio

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from sightwire.actions.base import ActionResult
from sightwire.config.actions import ModbusConfig
from sightwire.core import Event

# Exception codes a device may answer with; 4, 5, 6, 10 and 11 can pass with time.
_EXCEPTIONS = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    5: "acknowledge (busy with a long command)",
    6: "device busy",
    10: "gateway path unavailable",
    11: "gateway target did not respond",
}
_PASSING = frozenset({4, 5, 6, 10, 11})


class WriteRefusedError(Exception):
    """The device answered a write with a Modbus exception code."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(f"exception {code}: {_EXCEPTIONS.get(code, 'unknown')}")


class ModbusAction:
    """Writes the configured value(s), optionally as a pulse, once per event."""

    def __init__(self, name: str, config: ModbusConfig) -> None:
        self.name = name
        self.config = config
        self._values = config.values()
        self._reset = config.reset_values() if config.pulse_ms else None
        self._client: AsyncModbusTcpClient | None = None
        self._busy = asyncio.Lock()

    def __repr__(self) -> str:
        c = self.config
        what = f"{c.write} {c.address}={self._values}"
        return f"ModbusAction({self.name!r}, {c.host}:{c.port} unit {c.unit}, {what})"

    def accepts(self, event: Event) -> bool:
        return True

    async def send(self, event: Event) -> ActionResult:
        where = f"{self.config.host}:{self.config.port}"
        budget = 2 * self.config.timeout_s + (self.config.pulse_ms or 0) / 1000
        try:
            async with asyncio.timeout(budget), self._busy:
                return await self._write_all(await self._connected())
        except WriteRefusedError as exc:
            retryable = exc.code in _PASSING
            return ActionResult(ok=False, retryable=retryable, detail=f"{where}: {exc}")
        except TimeoutError:
            self._drop()
            return ActionResult(ok=False, retryable=True, detail=f"{where}: no answer in time")
        except (ModbusException, OSError) as exc:
            self._drop()
            return ActionResult(ok=False, retryable=True, detail=f"{where}: {exc}")

    async def close(self) -> None:
        self._drop()

    async def _write_all(self, client: AsyncModbusTcpClient) -> ActionResult:
        what = f"{self.config.write} {self.config.address}"
        await self._write(client, self._values)
        if self._reset is None:
            return ActionResult(ok=True, detail=f"wrote {what} = {self._values}")
        await asyncio.sleep((self.config.pulse_ms or 0) / 1000)
        try:
            await self._write(client, self._reset)
        except (WriteRefusedError, ModbusException, OSError) as exc:
            if not isinstance(exc, WriteRefusedError):
                self._drop()
            retryable = not isinstance(exc, WriteRefusedError) or exc.code in _PASSING
            detail = f"{what} set to {self._values} but not written back: {exc}"
            return ActionResult(ok=False, retryable=retryable, detail=detail)
        return ActionResult(ok=True, detail=f"pulsed {what}: {self._values} then {self._reset}")

    async def _write(self, client: AsyncModbusTcpClient, values: list[int] | list[bool]) -> None:
        address, unit = self.config.address, self.config.unit
        response: ModbusPDU
        if self.config.write == "coil":
            bits = [bool(v) for v in values]
            if len(bits) == 1:
                response = await client.write_coil(address, bits[0], device_id=unit)
            else:
                response = await client.write_coils(address, bits, device_id=unit)
        else:
            words = [int(v) for v in values]
            if len(words) == 1:
                response = await client.write_register(address, words[0], device_id=unit)
            else:
                response = await client.write_registers(address, words, device_id=unit)
        if response.isError():
            raise WriteRefusedError(int(getattr(response, "exception_code", 0)))

    async def _connected(self) -> AsyncModbusTcpClient:
        if self._client is not None and self._client.connected:
            return self._client
        self._drop()
        client = AsyncModbusTcpClient(
            self.config.host,
            port=self.config.port,
            timeout=self.config.timeout_s,
            retries=0,
            reconnect_delay=0,  # reconnecting is ours to decide, on the next send
        )
        if not await client.connect():
            raise ConnectionError("cannot connect (is the PLC on and the port right?)")
        self._client = client
        return client

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()
