/** A SocketTask over the standard WebSocket (browsers; Node 22+). */

/**
 * @param {string} url
 * @returns {import('../socket.js').SocketTaskLike}
 */
export function webSocketTask(url) {
  const ws = new WebSocket(url);
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
