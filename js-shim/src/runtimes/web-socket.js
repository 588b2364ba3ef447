/** A SocketTask over the standard WebSocket (browsers; Node 22+). */

/**
 * @param {string} url
 * @param {Record<string, string>} [header] Node's WebSocket (undici) sends
 *   them with the handshake; a browser's cannot, and the engine refuses a
 *   header there before this runs.
 * @returns {import('../socket.js').SocketTaskLike}
 */
export function webSocketTask(url, header) {
  const ws = header ? new WebSocket(url, /** @type {any} */ ({ headers: header })) : new WebSocket(url);
  return {
    send({ data, fail }) {
      try {
        ws.send(data);
      } catch (error) {
        if (fail) fail({ errMsg: `sendSocketMessage:fail ${error instanceof Error ? error.message : String(error)}` });
      }
    },
    close({ code = 1000, reason = '' } = {}) {
      ws.close(code, reason);
    },
    onOpen: (f) => ws.addEventListener('open', () => f()),
    onMessage: (f) => ws.addEventListener('message', (e) => f({ data: e.data })),
    onClose: (f) => ws.addEventListener('close', (e) => f({ code: e.code, reason: e.reason })),
    onError: (f) => ws.addEventListener('error', () => f({ errMsg: 'WebSocket error' })),
  };
}
