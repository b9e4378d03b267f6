# El monedero por aplicación (seed 004: Payconiq a través de Monext, ahora Bancontact): la
# página de los nombres y el simulador de TEST. Páginas del comprador: las mismas claves en
# los cinco idiomas.
app-title = Pagar con { $service }
app-intro = { $service } solicita su nombre y sus apellidos. Después confirmará el pago en su aplicación { $service }.
app-first_name = Nombre
app-last_name = Apellidos
app-continue = Continuar a { $service }
app-names_hint = Su nombre acompaña la solicitud de pago, como exige el servicio de pago.
app-other_way = Pagar de otra forma
app-fix_fields = No se ha enviado la solicitud de pago: corrija los campos señalados a continuación.
app-name-too_long = 64 caracteres como máximo.
app-name-invalid = Este nombre contiene un carácter que no se puede usar.
app-amount-invalid = Valor no válido para el importe (código 02308): debe ser mayor que cero y no superar el importe del pedido.
app-amount-partial = Este enlace se paga en un único pago por el importe total del pedido.
app-production_unavailable = El pago con la aplicación aún no está disponible para esta tienda. Vuelva a la página de pago para pagar de otra forma.
app-simulator-title = { $service }: simulador de TEST
app-simulator-notice = Este es el simulador de TEST de { $service } de paylink: no se abre ninguna aplicación y no se mueve dinero. Elija el resultado que desea simular.
app-simulator-session = Pago a nombre de { $buyer }. La sesión termina a las { $until }.
app-simulator-pay = REALIZAR EL PAGO
app-simulator-abort = ABANDONAR
app-simulator-hint = REALIZAR EL PAGO se acepta (código 00000); ABANDONAR cancela el pago (código 02008). Pasados 15 minutos, la sesión caduca (código 02324).
