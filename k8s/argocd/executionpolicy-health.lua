-- Argo CD health check for safety.marketintel.io/ExecutionPolicy (docs/gitops-health.md).
--
-- Argo CD runs custom checks in gopher-lua (Lua 5.1) with only the base, table and a safe os library:
-- no string library, so no string.* calls and no ("x"):method() calls here. The operator's status
-- model (kstatus Ready/Reconciling/Stalled plus EmergencyStopped, phase, observedGeneration) is read
-- defensively: a missing or malformed field never raises an error.
--
-- Rules, first match wins:
--   1. no status                                           -> Progressing (the operator has not looked yet)
--   2. emergency stop in force, pods still there (phase Stopping) -> Progressing (what still runs, and why)
--   3. emergency stop latched and complete                 -> Suspended   (who, why, and the re-arm commands)
--   4. Ready=False reason OperatorError for this generation -> Degraded
--   5. status.observedGeneration < metadata.generation     -> Progressing (the change is not observed yet)
--   6. Stalled=True, reason AwaitingApproval or DryRunSoakIncomplete -> Suspended (waits for people or time)
--   7. Stalled=True, any other reason                      -> Degraded
--   8. Reconciling=True                                    -> Progressing
--   9. Ready=True                                          -> Healthy
--  10. anything else                                       -> Progressing (Degraded/Suspended by phase when
--                                                             no kstatus condition is present at all)

-- EmergencyStopped condition reasons of a stop (scope name + "Stop", or Latched once the annotation is
-- gone); CircuitBreakerOpen is not one of them (a tripped breaker is Degraded). Listed, not matched by
-- suffix, because there is no string library.
local STOP_REASONS = { PolicyStop = true, NamespaceStop = true, ClusterStop = true, Latched = true }

-- Stalled reasons that wait for something expected rather than for a fix.
local WAITING_REASONS = { AwaitingApproval = true, DryRunSoakIncomplete = true }

local function field(t, key)
  if type(t) ~= "table" then
    return nil
  end
  return t[key]
end

local function text(v)
  if type(v) == "string" then
    return v
  end
  if type(v) == "number" or type(v) == "boolean" then
    return tostring(v)
  end
  return nil
end

local function number(v)
  if type(v) == "number" then
    return v
  end
  if type(v) == "string" then
    return tonumber(v)
  end
  return nil
end

local function condition(status, kind)
  local list = field(status, "conditions")
  if type(list) ~= "table" then
    return nil
  end
  for _, c in ipairs(list) do
    if type(c) == "table" and c.type == kind then
      return c
    end
  end
  return nil
end

local function isTrue(c)
  return field(c, "status") == "True"
end

local function reasonOf(c)
  return text(field(c, "reason")) or ""
end

-- The condition's message, or the fallback when it has none.
local function messageOf(c, fallback)
  local m = text(field(c, "message"))
  if m == nil or m == "" then
    return fallback
  end
  return m
end

-- Who stopped and why, from status.emergencyStop. The Stalled message says it only on the pass that
-- latched the stop ("emergency stop on <object> by <user>: <reason>; to resume, ..."); later passes say
-- "emergency stop latched (epoch N); ...", so it is put in front of those. nil when the Stalled message
-- already starts with it (status.emergencyStop.message is then exactly this text) or it is unknown.
local function stopCause(status)
  local stop = field(status, "emergencyStop")
  if field(stop, "active") ~= true then
    return nil
  end
  local source = text(field(stop, "source"))
  local reason = text(field(stop, "reason"))
  if source == nil or reason == nil then
    return nil
  end
  local cause = "emergency stop on " .. source
  local by = text(field(stop, "stoppedBy"))
  if by ~= nil then
    cause = cause .. " by " .. by
  end
  cause = cause .. ": " .. reason
  if text(field(stop, "message")) == cause then
    return nil
  end
  return cause
end

local function health(o)
  local generation = number(field(field(o, "metadata"), "generation"))
  local waiting = "waiting for the operator to observe this policy"
  if generation ~= nil then
    waiting = "waiting for the operator to observe generation " .. tostring(generation)
  end

  local status = field(o, "status")
  if type(status) ~= "table" then
    return "Progressing", waiting
  end
  local phase = text(status.phase)
  local stalled = condition(status, "Stalled")
  local reconciling = condition(status, "Reconciling")
  local ready = condition(status, "Ready")
  local stopped = condition(status, "EmergencyStopped")

  -- A stop is done only when the pods are gone: until then it is in progress, and Reconciling names each
  -- pod still there and why.
  if phase == "Stopping" then
    return "Progressing", messageOf(reconciling, "emergency stop in progress: pods of the trading system still run")
  end

  -- A latched stop holds whatever the spec says (only a re-arm releases it), so it is shown even
  -- before the operator has observed a newer generation.
  if phase == "EmergencyStopped"
      or (isTrue(stopped) and STOP_REASONS[reasonOf(stopped)])
      or (isTrue(stalled) and reasonOf(stalled) == "EmergencyStopped") then
    local message = messageOf(stopped, "emergency stop latched: every target is held at zero replicas until re-armed")
    if isTrue(stalled) then
      message = messageOf(stalled, message)
    end
    local cause = stopCause(status)
    if cause ~= nil then
      message = cause .. "; " .. message
    end
    return "Suspended", message
  end

  -- A failed reconcile stamps Ready (with this generation) but not status.observedGeneration: it must
  -- not hide behind "waiting for the operator".
  if field(ready, "status") == "False" and reasonOf(ready) == "OperatorError" then
    local seen = number(ready.observedGeneration)
    if generation == nil or seen == nil or seen >= generation then
      return "Degraded", messageOf(ready, "the operator could not reconcile this policy")
    end
  end

  local observed = number(status.observedGeneration)
  if observed == nil or (generation ~= nil and observed < generation) then
    return "Progressing", waiting
  end

  if isTrue(stalled) then
    local reason = reasonOf(stalled)
    if WAITING_REASONS[reason] then
      return "Suspended", messageOf(stalled, "waiting: " .. reason)
    end
    if reason == "" then
      reason = "Stalled"
    end
    return "Degraded", messageOf(stalled, reason)
  end

  if isTrue(reconciling) then
    return "Progressing", messageOf(reconciling, "transition in progress")
  end

  if isTrue(ready) then
    return "Healthy", messageOf(ready, "every target runs in the desired mode")
  end

  -- No kstatus conditions at all (never written by this operator, but a status may be edited or
  -- truncated): read the phase, and never call Healthy without Ready=True.
  if ready == nil and stalled == nil and reconciling == nil and phase ~= nil then
    if phase == "Blocked" or phase == "Failed" then
      return "Degraded", "phase " .. phase .. " (no conditions reported)"
    end
    if phase == "AwaitingApproval" then
      return "Suspended", "phase " .. phase .. " (no conditions reported)"
    end
  end
  -- Not stalled, not reconciling, not Ready: a pass between two decisions (phase Pending).
  local readyMessage = messageOf(ready, "not Ready yet")
  if phase ~= nil and phase ~= "" then
    return "Progressing", "phase " .. phase .. ": " .. readyMessage
  end
  return "Progressing", readyMessage
end

local healthStatus, healthMessage = health(obj)
return { status = healthStatus, message = healthMessage }
